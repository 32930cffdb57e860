"""``/healthz`` and graceful drain (R-F49).

``Drain`` is the process's drain state: ``__main__`` starts it on SIGTERM, the edge
reads it. From ``start_drain()`` on, ``/healthz`` answers 503 so load balancers stop
routing here, while requests still arrive and are served for ``grace_s`` (they were
routed before the load balancer noticed). After that, new requests get 503 with
``Connection: close``; requests in flight always run to completion, and every response
sent while draining closes its connection, so idle keep-alives do not linger.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus

from gateway.edge.config import DEFAULT_DRAIN_GRACE_S, EdgeConfig
from gateway.http_status import JSON_CONTENT_TYPE, GrpcCode, send_status
from meshkit.asgi import (
    ASGIApp,
    Header,
    Message,
    Receive,
    Scope,
    Send,
    with_response_headers,
)

CLOSE: Header = (b"connection", b"close")

_log = logging.getLogger("shopmesh.gateway.edge")


class Drain:
    """Whether the process is draining, and how many requests are in flight."""

    def __init__(
        self, grace_s: float = DEFAULT_DRAIN_GRACE_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._grace_s = grace_s
        self._clock = clock
        self._started_at: float | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self.in_flight = 0
        self.closing = asyncio.Event()
        """Set when the drain grace is over: long-lived streams end then (with a final
        "reconnect" line), since they would otherwise hold the shutdown grace."""

    @property
    def draining(self) -> bool:
        return self._started_at is not None

    def start_drain(self) -> None:
        """Health → 503 now; new requests refused once the grace has passed. Idempotent."""
        if self._started_at is None:
            self._started_at = self._clock()
            _log.info("drain started: %d request(s) in flight", self.in_flight)

    def accepting(self) -> bool:
        """Whether a new request is still served."""
        return self._started_at is None or self._clock() - self._started_at < self._grace_s

    def close_streams(self) -> None:
        """Tells open streams to end now."""
        self.closing.set()

    def enter(self) -> None:
        self.in_flight += 1
        self._idle.clear()

    def leave(self) -> None:
        self.in_flight -= 1
        if self.in_flight == 0:
            self._idle.set()

    async def wait_idle(self, timeout: float) -> bool:  # noqa: ASYNC109 - one bounded wait, the API F49 asks for
        """Waits until no request is in flight; False if ``timeout`` passed first."""
        try:
            async with asyncio.timeout(timeout):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True


class HealthAndDrain:
    """Answers ``GET /healthz`` itself and turns requests away once draining."""

    def __init__(self, app: ASGIApp, config: EdgeConfig, drain: Drain) -> None:
        self._app = app
        self._health_path = config.health_path
        self._drain = drain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        if scope["path"] == self._health_path and scope["method"] in ("GET", "HEAD"):
            await self._health(send)
            return
        if not self._drain.accepting():
            await send_status(
                send,
                HTTPStatus.SERVICE_UNAVAILABLE,
                GrpcCode.UNAVAILABLE,
                "the gateway is shutting down; retry on another instance",
                [CLOSE],
            )
            return
        self._drain.enter()
        try:
            await self._app(scope, receive, with_response_headers(send, self._close_if_draining))
        finally:
            self._drain.leave()

    def _close_if_draining(self, _: Message) -> Iterable[Header]:
        return [CLOSE] if self._drain.draining else []

    async def _health(self, send: Send) -> None:
        serving = not self._drain.draining
        body = json.dumps({"status": "SERVING" if serving else "NOT_SERVING"}).encode()
        headers = [
            (b"content-type", JSON_CONTENT_TYPE),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"no-store"),
        ]
        status = HTTPStatus.OK if serving else HTTPStatus.SERVICE_UNAVAILABLE
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})
