"""Token buckets of the edge rate limiter, on a fake clock (R-H58)."""

from __future__ import annotations

import pytest

from gateway.edge.ratelimit import TokenBuckets, client_key


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_burst_passes_then_excess_waits_for_one_token() -> None:
    """A full bucket admits exactly ``burst`` requests; the next waits 1/rate seconds."""
    clock = FakeClock()
    buckets = TokenBuckets(rate_per_s=10.0, burst=5, max_clients=10, clock=clock)
    assert [buckets.take("a") for _ in range(5)] == [0.0] * 5
    assert buckets.take("a") == pytest.approx(0.1)


def test_steady_rate_at_refill_rate_is_never_refused_after_burst_spent() -> None:
    """Requests exactly 1/rate apart keep passing even with the bucket empty (no float drift)."""
    clock = FakeClock()
    buckets = TokenBuckets(rate_per_s=10.0, burst=1, max_clients=10, clock=clock)
    assert buckets.take("a") == 0.0
    for step in range(1, 1001):
        clock.now = 1000.0 + step * 0.1
        assert buckets.take("a") == 0.0, f"refused at step {step}"


def test_refused_request_spends_no_token() -> None:
    """Being refused does not push a client's next admission further away."""
    clock = FakeClock()
    buckets = TokenBuckets(rate_per_s=2.0, burst=1, max_clients=10, clock=clock)
    buckets.take("a")
    for _ in range(50):
        assert buckets.take("a") > 0.0
    clock.now += 0.5
    assert buckets.take("a") == 0.0


def test_clients_have_separate_buckets() -> None:
    """One client spending its burst leaves another's untouched."""
    buckets = TokenBuckets(rate_per_s=1.0, burst=1, max_clients=10, clock=FakeClock())
    assert buckets.take("a") == 0.0
    assert buckets.take("a") > 0.0
    assert buckets.take("b") == 0.0


def test_idle_buckets_are_dropped_once_full_again() -> None:
    """A bucket idle long enough to have refilled is evicted: memory follows active clients."""
    clock = FakeClock()
    buckets = TokenBuckets(rate_per_s=10.0, burst=10, max_clients=1000, clock=clock)
    for n in range(500):
        buckets.take(f"client-{n}")
    assert len(buckets) == 500
    clock.now += 1.0  # burst / rate: every bucket is full again
    buckets.take("new")
    assert len(buckets) == 1


def test_active_clients_beyond_the_cap_evict_the_least_recent() -> None:
    """Past max_clients the least recently seen bucket goes; the table never grows beyond."""
    clock = FakeClock()
    buckets = TokenBuckets(rate_per_s=0.001, burst=1, max_clients=3, clock=clock)
    for name in ("a", "b", "c", "d"):
        buckets.take(name)
    assert len(buckets) == 3
    assert buckets.take("d") > 0.0  # still remembered: refused
    assert buckets.take("a") == 0.0  # forgotten: a fresh burst


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ({"state": {"client_id": "shop-web"}, "client": ("10.0.0.1", 5)}, "client:shop-web"),
        ({"state": {}, "client": ("10.0.0.1", 5)}, "peer:10.0.0.1"),
        ({"client": None}, "peer:unknown"),
    ],
)
def test_client_key_prefers_authenticated_id_over_peer(
    scope: dict[str, object], expected: str
) -> None:
    """The authenticated client id names the bucket, else the peer address."""
    assert client_key(scope) == expected
