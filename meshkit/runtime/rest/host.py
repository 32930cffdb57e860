"""``RestHost``: a service's REST/JSON baseline, served and drained like ``ServiceHost``.

uvicorn (httptools parser) serves the routes a service contributes through ``RestApp``
on the REST port, ``/healthz`` and ``/metrics`` included; one pooled aiohttp session per
dependency backs its ``RestClient``. Stopping follows the gRPC sequence: health → 503,
the drain delay, then the listener closes, idle keep-alive connections are closed and
in-flight requests get the grace period.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import uvicorn

from meshkit.runtime.config import RuntimeConfig
from meshkit.runtime.counters import CallCounters
from meshkit.runtime.drain import DrainingHost
from meshkit.runtime.logs import AccessLog
from meshkit.runtime.rest.app import RestApp
from meshkit.runtime.rest.client import KEEPALIVE_S, RestClient, open_session
from meshkit.runtime.rest.router import Route
from meshkit.startup import StartupError

_log = logging.getLogger("shopmesh.server")

SERVER_KEEPALIVE_S = KEEPALIVE_S + 15
"""Longer than the clients keep idle connections, so a client never reuses a connection
the server is closing at that moment (which would cost a retry)."""
BACKLOG = 2048


@dataclass
class RestParts:
    """What a service contributes to its REST host."""

    routes: Sequence[Route]
    background: Sequence[Callable[[], Coroutine[Any, Any, None]]] = ()
    on_stop: Sequence[Callable[[], Awaitable[None]]] = field(default_factory=list)


RestBuild = Callable[[Mapping[str, RestClient]], RestParts]
"""Builds a service's REST parts from one client per dependency."""


class RestHost(DrainingHost):
    """A running REST service: routes, health, metrics, clients and drain."""

    def __init__(self, config: RuntimeConfig, build: RestBuild) -> None:
        super().__init__()
        self.config = config
        self._build = build
        self.rest_port = 0
        self.counters = CallCounters()
        self._sessions: list[aiohttp.ClientSession] = []
        self._app: RestApp | None = None
        self._server: uvicorn.Server | None = None
        self._socket: socket.socket | None = None
        self._parts: RestParts | None = None

    async def start(self) -> None:
        config = self.config
        clients: dict[str, RestClient] = {}
        for name, target in config.dependencies.items():
            session = open_session(config.rest_client)
            self._sessions.append(session)
            clients[name] = RestClient(
                f"http://{target}",
                session,
                default_deadline_s=config.default_deadline_s,
                margin_s=config.deadline_margin_s,
            )
        parts = self._parts = self._build(clients)
        app = self._app = RestApp(
            config.service_name,
            parts.routes,
            default_deadline_s=config.default_deadline_s,
            max_body_bytes=config.max_message_bytes,
            counters=self.counters,
            access_log=AccessLog(config.service_name) if config.access_log else None,
        )
        self._socket = _listen(config.host, config.rest_port)
        self.rest_port = int(self._socket.getsockname()[1])
        server_config = uvicorn.Config(
            app,
            http="httptools",
            loop="none",
            lifespan="off",
            ws="none",
            interface="asgi3",
            access_log=False,
            log_config=None,
            server_header=False,
            timeout_keep_alive=int(SERVER_KEEPALIVE_S),
            timeout_graceful_shutdown=max(1, round(config.grace_s)),
            backlog=BACKLOG,
        )
        # uvicorn's own INFO lines ("Shutting down") under a logger called "uvicorn.error"
        # only confuse; its warnings (malformed requests) stay.
        logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
        server_config.load()
        server = self._server = uvicorn.Server(server_config)
        server.lifespan = server_config.lifespan_class(server_config)
        await server.startup(sockets=[self._socket])
        for job in parts.background:
            self._tasks.append(asyncio.create_task(job()))
        _log.info("serving", extra={"rest_port": self.rest_port, "transport": "rest"})

    async def _stop_looking_ready(self) -> None:
        if self._app is not None:
            self._app.draining = True  # /healthz → 503: load balancers stop routing

    async def _stop_serving(self, grace_s: float) -> None:
        # Closes the listener and idle keep-alives; in-flight requests get the grace.
        if self._server is not None:
            self._server.config.timeout_graceful_shutdown = max(1, round(grace_s))
            await self._server.shutdown()
        if self._socket is not None:
            self._socket.close()

    async def _release(self) -> None:
        for session in self._sessions:
            await session.close()
        for hook in self._parts.on_stop if self._parts else ():
            await hook()


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise StartupError(
            f"cannot listen for REST on {host}:{port}: {exc.strerror or exc}"
        ) from exc
    sock.set_inheritable(False)
    return sock
