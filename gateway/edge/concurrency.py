"""A cap on requests in flight: excess ones get an immediate 503, never a queue (R-C26).

Queueing at the edge only moves the wait somewhere the client cannot see; a fast 503
with ``Retry-After`` lets the client (or the load balancer) go elsewhere at once, while
requests already admitted run to completion undisturbed.
"""

from __future__ import annotations

from http import HTTPStatus

from gateway.edge.config import EdgeConfig
from gateway.http_status import GrpcCode, send_status
from meshkit.asgi import ASGIApp, Receive, Scope, Send


class ConcurrencyLimit:
    """Admits at most ``config.max_concurrency`` HTTP requests at once (0 = no cap)."""

    def __init__(self, app: ASGIApp, config: EdgeConfig) -> None:
        self._app = app
        self._limit = config.max_concurrency
        self._retry_after = str(config.concurrency_retry_after_s).encode()
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._limit:
            await self._app(scope, receive, send)
            return
        if self.in_flight >= self._limit:
            await send_status(
                send,
                HTTPStatus.SERVICE_UNAVAILABLE,
                GrpcCode.UNAVAILABLE,
                "the gateway is at its concurrency limit; retry shortly",
                [(b"retry-after", self._retry_after)],
            )
            return
        # One event loop per process: a plain counter is race-free.
        self.in_flight += 1
        try:
            await self._app(scope, receive, send)
        finally:
            self.in_flight -= 1
