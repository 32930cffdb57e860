"""The response cache's pure parts: keys, TTL lookup and a bounded LRU store with TTLs."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from meshkit.asgi import Header

CacheKey = tuple[str, bytes, bytes, str]


def cache_key(method: str, raw_path: bytes, query: bytes, identity: str) -> CacheKey:
    """Method, exact path and query bytes, and who asked: one client never sees a
    response cached for another's credentials."""
    return (method, raw_path, query, identity)


def ttl_for(path: str, ttls: Iterable[tuple[str, float]]) -> float:
    """The TTL of the longest prefix of ``path``; 0.0 (do not cache) when none matches."""
    best_prefix, best_ttl = "", 0.0
    for prefix, ttl in ttls:
        if path.startswith(prefix) and len(prefix) > len(best_prefix):
            best_prefix, best_ttl = prefix, ttl
    return best_ttl


@dataclass(frozen=True)
class CachedResponse:
    """A complete 200 response as the app sent it, with when and for how long it keeps."""

    status: int
    headers: tuple[Header, ...]
    body: bytes
    stored_at: float
    ttl_s: float


class ResponseStore:
    """At most ``max_entries`` responses; least recently used go first, expired on sight."""

    def __init__(self, max_entries: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[CacheKey, CachedResponse] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: CacheKey) -> tuple[CachedResponse, float] | None:
        """The fresh entry under ``key`` and its age in seconds, or None."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        age = self._clock() - entry.stored_at
        if age >= entry.ttl_s:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry, age

    def put(
        self, key: CacheKey, status: int, headers: Iterable[Header], body: bytes, ttl_s: float
    ) -> None:
        self._entries[key] = CachedResponse(status, tuple(headers), body, self._clock(), ttl_s)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
