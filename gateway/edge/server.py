"""Serving the edge under uvicorn: the recommended settings and a draining server.

``uvicorn_config`` is what the gateway's ``__main__`` (and the integration tests) run:
the guarded protocol (head timeout and cap), no WebSocket upgrade (nothing at the edge
would authenticate or limit one), no ``Server`` header, keep-alive, forwarded-for trust
and shutdown grace from ``EdgeConfig``. ``DrainingServer`` turns the first SIGTERM or
SIGINT into the drain sequence before uvicorn's own shutdown (R-F49).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import socket
from types import FrameType
from typing import Any

import uvicorn

from gateway.edge.config import EdgeConfig
from gateway.edge.drain import Drain
from gateway.edge.protocol import guarded_protocol
from meshkit.asgi import ASGIApp

_log = logging.getLogger("shopmesh.gateway.edge")

LEFTOVER_GRACE_S = 1
"""uvicorn's shutdown wait after a completed drain: for requests that were being turned
away in the last tick, not for real work."""


def uvicorn_config(
    app: ASGIApp, config: EdgeConfig, *, host: str, port: int, **overrides: Any
) -> uvicorn.Config:
    """uvicorn settings for the edge; ``overrides`` are passed to ``uvicorn.Config`` last."""
    settings: dict[str, Any] = {
        "http": guarded_protocol(config),
        # uvloop: measurably cheaper per request than asyncio's loop (docs/benchmarks.md);
        # grpc.aio runs on it too.
        "loop": "uvloop",
        "ws": "none",
        "timeout_keep_alive": config.keep_alive_s,
        "timeout_graceful_shutdown": math.ceil(config.shutdown_grace_s),
        "proxy_headers": True,
        "forwarded_allow_ips": list(config.forwarded_allow_ips),
        "server_header": False,
        # Only used if an override picks http="h11": its head limit, as the guard's.
        "h11_max_incomplete_event_size": config.max_header_bytes,
    }
    settings.update(overrides)
    return uvicorn.Config(app, host=host, port=port, **settings)


class DrainingServer(uvicorn.Server):
    """A uvicorn server whose first exit signal drains before uvicorn shuts down.

    1. ``drain.start_drain()``: /healthz → 503; requests still served for the drain grace.
    2. After it, new requests get 503 + close; in-flight ones get ``shutdown_grace_s``.
    3. uvicorn's shutdown: listeners and idle keep-alives closed, leftovers given
       ``LEFTOVER_GRACE_S``. So the process exits within drain grace + grace + ~1 s.
    A second signal goes straight to step 3 (a second SIGINT forces the exit).
    """

    def __init__(self, config: uvicorn.Config, drain: Drain, edge: EdgeConfig) -> None:
        super().__init__(config)
        self._drain = drain
        self._drain_grace_s = edge.drain_grace_s
        self._shutdown_grace_s = edge.shutdown_grace_s
        self._drain_requested = False
        self._drain_task: asyncio.Task[None] | None = None

    def request_drain(self) -> None:
        """Starts the drain sequence at the next tick (safe from a signal handler)."""
        self._drain_requested = True

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._drain_requested:
            super().handle_exit(sig, frame)
        else:
            self.request_drain()

    async def on_tick(self, counter: int) -> bool:
        # uvicorn ticks every 0.1 s; starting here keeps signal handlers trivial.
        if self._drain_requested and self._drain_task is None:
            self._drain_task = asyncio.create_task(self._drain_then_exit())
        return await super().on_tick(counter)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self._drain_task is not None and not self._drain_task.done():
            self._drain_task.cancel()  # a second signal cut the drain short
            with contextlib.suppress(asyncio.CancelledError):
                await self._drain_task
        await super().shutdown(sockets)

    async def _drain_then_exit(self) -> None:
        self._drain.start_drain()
        await asyncio.sleep(self._drain_grace_s)
        self._drain.close_streams()
        if not await self._drain.wait_idle(self._shutdown_grace_s):
            _log.warning("shutdown grace over with %d request(s) in flight", self._drain.in_flight)
        # The grace is spent: uvicorn's own wait must not grant it a second time.
        self.config.timeout_graceful_shutdown = LEFTOVER_GRACE_S
        self.should_exit = True
