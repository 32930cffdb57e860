"""Token-bucket rate limiting per client → 429 with ``Retry-After`` (R-H58).

The client is the authenticated client id (set by ``Authenticate``), else the peer
address (which uvicorn rewrites from X-Forwarded-For only for trusted proxies). A burst
up to ``rate_burst`` passes, then requests pass at ``rate_per_s``.

Memory is bounded: buckets live in one LRU-ordered dict of at most ``max_clients``.
A bucket untouched for ``burst / rate`` seconds has refilled completely and is exactly
a fresh one, so such idle buckets are dropped for free as they reach the old end; only
past ``max_clients`` *active* clients is the least recently seen one forgotten (it then
starts again with a full burst).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from http import HTTPStatus

from gateway.edge.auth import CLIENT_ID
from gateway.edge.config import EdgeConfig
from gateway.http_status import GrpcCode, send_status
from meshkit.asgi import ASGIApp, Receive, Scope, Send

_EPSILON = 1e-9
"""Float slack, so a client at exactly the refill rate is never refused by rounding."""


class TokenBuckets:
    """Per-key token buckets on an injectable monotonic clock."""

    def __init__(
        self,
        rate_per_s: float,
        burst: int,
        max_clients: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rate = rate_per_s
        self._burst = burst
        self._max_clients = max_clients
        self._clock = clock
        self._full_after_s = burst / rate_per_s
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # tokens, stamp

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str) -> float:
        """Spends one token of ``key``'s bucket: 0.0 if admitted, else seconds to wait."""
        now = self._clock()
        self._drop_idle(now)
        tokens, stamp = self._buckets.pop(key, (float(self._burst), now))
        tokens = min(float(self._burst), tokens + (now - stamp) * self._rate)
        wait = 0.0
        if tokens >= 1.0 - _EPSILON:
            tokens = max(0.0, tokens - 1.0)
        else:
            wait = (1.0 - tokens) / self._rate
        self._buckets[key] = (tokens, now)  # re-inserted at the recent end
        if len(self._buckets) > self._max_clients:
            self._buckets.popitem(last=False)
        return wait

    def _drop_idle(self, now: float) -> None:
        while self._buckets:
            _, stamp = next(iter(self._buckets.values()))
            if now - stamp < self._full_after_s:
                return
            self._buckets.popitem(last=False)


def client_key(scope: Scope) -> str:
    """Whom a request is charged to: its authenticated client, else its peer address."""
    client_id = (scope.get("state") or {}).get(CLIENT_ID)
    if client_id:
        return f"client:{client_id}"
    peer = scope.get("client")
    return f"peer:{peer[0]}" if peer else "peer:unknown"


class RateLimit:
    """Refuses requests over their client's rate with 429 RESOURCE_EXHAUSTED."""

    def __init__(
        self, app: ASGIApp, config: EdgeConfig, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._app = app
        self._buckets = (
            TokenBuckets(config.rate_per_s, config.rate_burst, config.rate_max_clients, clock)
            if config.rate_per_s > 0
            else None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._buckets is None:
            await self._app(scope, receive, send)
            return
        wait = self._buckets.take(client_key(scope))
        if not wait:
            await self._app(scope, receive, send)
            return
        seconds = max(1, math.ceil(wait))
        retry_info = {
            "@type": "type.googleapis.com/google.rpc.RetryInfo",
            "retryDelay": f"{seconds}s",
        }
        await send_status(
            send,
            HTTPStatus.TOO_MANY_REQUESTS,
            GrpcCode.RESOURCE_EXHAUSTED,
            f"rate limit exceeded; retry after {seconds} s",
            [(b"retry-after", str(seconds).encode())],
            details=[retry_info],
        )
