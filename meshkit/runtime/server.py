"""One way to build, run and stop a grpc.aio service.

``ServiceHost`` wires what every service needs around the servicers it is given:
health (gRPC and HTTP), reflection, the server boundary interceptor, tracing, one
channel per dependency, and the drain sequence. ``meshkit.runtime.main`` runs it (or
the REST baseline's ``RestHost``) for a service's ``__main__``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from grpc_health.v1 import health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from meshkit.runtime.channels import Channels, open_channel
from meshkit.runtime.config import RuntimeConfig
from meshkit.runtime.counters import CallCounters
from meshkit.runtime.drain import DrainingHost
from meshkit.runtime.health import (
    HEALTH_SERVICE_NAME,
    DependencyMonitor,
    HealthServicer,
    HealthState,
)
from meshkit.runtime.http_health import HealthHttpServer
from meshkit.runtime.interceptors import ServerBoundary
from meshkit.runtime.logs import AccessLog
from meshkit.runtime.tracing import Tracing
from meshkit.startup import StartupError

_log = logging.getLogger("shopmesh.server")

SERVER_KEEPALIVE_OPTIONS: tuple[tuple[str, Any], ...] = (
    # Ping idle clients every 2 minutes to find dead peers (C30), well inside the
    # 5-minute idle timeout of the proxies between us.
    ("grpc.keepalive_time_ms", 120_000),
    ("grpc.keepalive_timeout_ms", 20_000),
    ("grpc.keepalive_permit_without_calls", 1),
    # Accept client pings down to every 30 s (ours send every 60 s); a client pinging
    # faster gets GOAWAY after two strikes (C29).
    ("grpc.http2.min_ping_interval_without_data_ms", 30_000),
    ("grpc.http2.max_ping_strikes", 2),
    # Never share a port silently with another process: a second instance must fail.
    ("grpc.so_reuseport", 0),
)


@dataclass(frozen=True)
class Registration:
    """A servicer and the generated function that adds it to a server."""

    servicer: object
    add_to_server: Callable[[Any, grpc.aio.Server], None]
    service_name: str


@dataclass
class ServiceParts:
    """What a service contributes to its host."""

    registrations: Sequence[Registration]
    hard_dependencies: Sequence[str] = ()
    """Dependencies whose health this service's health follows."""
    background: Sequence[Callable[[], Coroutine[Any, Any, None]]] = ()
    """Long-running tasks, cancelled at shutdown (for example saga recovery)."""
    on_stop: Sequence[Callable[[], Awaitable[None]]] = field(default_factory=list)


BuildParts = Callable[[Channels], ServiceParts]


class ServiceHost(DrainingHost):
    """A running service: gRPC server, health, reflection, channels and drain."""

    def __init__(self, config: RuntimeConfig, build: BuildParts, tracing: Tracing | None = None):
        super().__init__()
        self.config = config
        self._build = build
        self._tracing = tracing or Tracing([], [])
        self.grpc_port = 0
        self.health_port = 0
        self._server: grpc.aio.Server | None = None
        self._channels = Channels({})
        self._health: HealthState | None = None
        self._http_server: HealthHttpServer | None = None
        self._monitor: DependencyMonitor | None = None
        self._parts: ServiceParts | None = None
        self.counters = CallCounters()
        """Calls and messages served, per method and operation (``GET /metrics``)."""

    @property
    def health(self) -> HealthState:
        assert self._health is not None, "start() first"
        return self._health

    async def start(self) -> None:
        config = self.config
        self._channels = Channels(
            {
                name: open_channel(
                    target,
                    default_deadline_s=config.default_deadline_s,
                    margin_s=config.deadline_margin_s,
                    max_message_bytes=config.max_message_bytes,
                    extra_interceptors=self._tracing.client_interceptors,
                )
                for name, target in config.dependencies.items()
            }
        )
        parts = self._parts = self._build(self._channels)
        names = [r.service_name for r in parts.registrations]
        self._health = HealthState(names, parts.hard_dependencies)
        server = self._server = grpc.aio.server(
            interceptors=[
                *self._tracing.server_interceptors,
                ServerBoundary(
                    default_deadline_s=config.default_deadline_s,
                    access_log=AccessLog(config.service_name) if config.access_log else None,
                    counters=self.counters,
                ),
            ],
            options=[
                *SERVER_KEEPALIVE_OPTIONS,
                ("grpc.max_send_message_length", config.max_message_bytes),
                ("grpc.max_receive_message_length", config.max_message_bytes),
            ],
        )
        for registration in parts.registrations:
            registration.add_to_server(registration.servicer, server)
        # grpc_health and grpc_reflection ship no typing for these two functions.
        health_pb2_grpc.add_HealthServicer_to_server(  # type: ignore[no-untyped-call]
            HealthServicer(self._health, config.stream_heartbeat_s), server
        )
        reflection.enable_server_reflection(  # type: ignore[no-untyped-call]
            [*names, HEALTH_SERVICE_NAME, reflection.SERVICE_NAME], server
        )
        address = f"{config.host}:{config.grpc_port}"
        try:
            self.grpc_port = server.add_insecure_port(address)
        except RuntimeError as exc:
            raise StartupError(f"cannot listen for gRPC on {address}: port in use?") from exc
        self._http_server = HealthHttpServer(self._health, config.service_name, self.counters)
        try:
            self.health_port = await self._http_server.start(config.host, config.health_port)
        except OSError as exc:
            raise StartupError(
                f"cannot listen for /healthz on {config.host}:{config.health_port}: {exc.strerror}"
            ) from exc
        await server.start()
        dependency_channels = {n: self._channels[n] for n in parts.hard_dependencies}
        self._monitor = DependencyMonitor(self._health, dependency_channels)
        self._monitor.start()
        for job in parts.background:
            self._tasks.append(asyncio.create_task(job()))
        _log.info(
            "serving",
            extra={
                "grpc_port": self.grpc_port,
                "health_port": self.health_port,
                "health": self._health.status_name,
            },
        )

    async def _stop_looking_ready(self) -> None:
        if self._health is not None:
            await self._health.drain()  # NOT_SERVING: load balancers stop routing here

    async def _stop_serving(self, grace_s: float) -> None:
        if self._server is not None:
            await self._server.stop(grace_s)  # refuse new RPCs, give in-flight ones grace

    async def _release(self) -> None:
        if self._monitor is not None:
            await self._monitor.stop()
        await self._channels.close()
        if self._http_server is not None:
            await self._http_server.stop()
        for hook in self._parts.on_stop if self._parts else ():
            await hook()
        self._tracing.shutdown()

    async def wait_for_termination(self) -> None:
        if self._server is not None:
            await self._server.wait_for_termination()
