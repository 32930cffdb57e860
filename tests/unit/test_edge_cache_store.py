"""Keys, TTL lookup and the bounded LRU store of the edge response cache."""

from __future__ import annotations

from gateway.edge.cache_store import ResponseStore, cache_key, ttl_for


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def test_cache_key_separates_identity_path_and_query() -> None:
    """Same path for two clients, or two queries, never share a key."""
    base = cache_key("GET", b"/v1/products", b"limit=3", "alice")
    assert base == cache_key("GET", b"/v1/products", b"limit=3", "alice")
    assert base != cache_key("GET", b"/v1/products", b"limit=3", "bob")
    assert base != cache_key("GET", b"/v1/products", b"limit=4", "alice")
    assert base != cache_key("GET", b"/v1/products", b"limit=3", "")
    assert base != cache_key("GET", b"/v1/products/", b"limit=3", "alice")


def test_ttl_for_takes_longest_matching_prefix() -> None:
    """The most specific prefix wins; an unmatched path is not cached (0)."""
    ttls = (("/v1", 5.0), ("/v1/products", 30.0), ("/v1/products/hot", 1.0))
    assert ttl_for("/v1/products/SKU-1", ttls) == 30.0
    assert ttl_for("/v1/products/hot/1", ttls) == 1.0
    assert ttl_for("/v1/orders", ttls) == 5.0
    assert ttl_for("/healthz", ttls) == 0.0


def test_entry_is_fresh_until_ttl_then_gone() -> None:
    """get returns the entry with its age before the TTL and None from the TTL on."""
    clock = FakeClock()
    store = ResponseStore(max_entries=10, clock=clock)
    key = cache_key("GET", b"/a", b"", "")
    store.put(key, 200, [(b"content-type", b"application/json")], b"{}", ttl_s=10.0)
    clock.now += 9.5
    hit = store.get(key)
    assert hit is not None
    assert hit[0].body == b"{}"
    assert hit[1] == 9.5
    clock.now += 0.5
    assert store.get(key) is None
    assert len(store) == 0


def test_store_keeps_at_most_max_entries_least_recently_used_first_out() -> None:
    """A read refreshes an entry, so the least recently used one is evicted."""
    store = ResponseStore(max_entries=2, clock=FakeClock())
    a, b, c = (cache_key("GET", path, b"", "") for path in (b"/a", b"/b", b"/c"))
    store.put(a, 200, [], b"a", 60.0)
    store.put(b, 200, [], b"b", 60.0)
    assert store.get(a) is not None
    store.put(c, 200, [], b"c", 60.0)
    assert len(store) == 2
    assert store.get(b) is None
    assert store.get(a) is not None
    assert store.get(c) is not None
