"""grpc.health.v1 with real status: SERVING only while not draining and while every
hard dependency answers its own health check. This is readiness (should this process get
calls?); liveness is the HTTP /healthz (meshkit/probes.py).

Our own servicer (rather than grpc_health's) so that draining can end Watch streams
before ``server.stop(grace)`` (otherwise every watcher would hold the server for the
whole grace period), and so that a Watch re-sends its status as a heartbeat: clients
hold Watch streams open through Service Connect's proxy, which cuts a stream that
carries no message for its idle timeout.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

ServingStatus = health_pb2.HealthCheckResponse.ServingStatus
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
SERVICE_UNKNOWN = health_pb2.HealthCheckResponse.SERVICE_UNKNOWN
HEALTH_SERVICE_NAME: str = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name

_log = logging.getLogger("shopmesh.health")


class HealthState:
    """The serving status of this process, from draining and dependency health."""

    def __init__(self, services: Iterable[str], hard_dependencies: Iterable[str] = ()) -> None:
        self._services = ("", *services)
        self._down = set(hard_dependencies)  # unknown until first seen healthy
        self._draining = False
        self._changed = asyncio.Condition()
        self._version = 0

    @property
    def status(self) -> ServingStatus:
        serving = not self._draining and not self._down
        return SERVING if serving else NOT_SERVING

    @property
    def draining(self) -> bool:
        return self._draining

    def knows(self, service: str) -> bool:
        return service in self._services

    @property
    def unhealthy_dependencies(self) -> frozenset[str]:
        return frozenset(self._down)

    async def set_dependency(self, name: str, healthy: bool) -> None:
        before = self.status
        (self._down.discard if healthy else self._down.add)(name)
        if self.status != before:
            _log.info("health changed", extra={"status": self.status_name, "dependency": name})
        await self._notify()

    async def drain(self) -> None:
        """Permanently NOT_SERVING; watchers see it, then their streams end."""
        self._draining = True
        await self._notify()

    @property
    def status_name(self) -> str:
        return health_pb2.HealthCheckResponse.ServingStatus.Name(self.status)

    async def _notify(self) -> None:
        async with self._changed:
            self._version += 1
            self._changed.notify_all()

    async def changes(self, heartbeat_s: float | None = None) -> AsyncIterator[ServingStatus]:
        """The current status, then every change, until draining is over; with
        ``heartbeat_s``, the current status again whenever that long passed unchanged."""
        last: ServingStatus | None = None
        while True:
            async with self._changed:
                if self.status == last and not self._draining:
                    try:
                        async with asyncio.timeout(heartbeat_s):
                            await self._changed.wait()
                    except TimeoutError:
                        last = None  # nothing changed for a heartbeat: say it again
                status, draining = self.status, self._draining
            # Yielded outside the lock: a slow reader must not hold up status changes.
            if status != last:
                last = status
                yield status
            if draining:
                return


class HealthServicer(health_pb2_grpc.HealthServicer):
    """Check and Watch per the gRPC health checking protocol; Watch streams re-send the
    status every ``heartbeat_s`` while it does not change."""

    def __init__(self, state: HealthState, heartbeat_s: float | None = None) -> None:
        self._state = state
        self._heartbeat_s = heartbeat_s

    async def Check(  # noqa: N802 - gRPC method name
        self, request: health_pb2.HealthCheckRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> health_pb2.HealthCheckResponse:
        if not self._state.knows(request.service):
            await context.abort(grpc.StatusCode.NOT_FOUND, f"unknown service {request.service!r}")
        return health_pb2.HealthCheckResponse(status=self._state.status)

    async def Watch(  # noqa: N802 - gRPC method name
        self, request: health_pb2.HealthCheckRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[health_pb2.HealthCheckResponse]:
        known = self._state.knows(request.service)
        # Per the protocol an unknown service is SERVICE_UNKNOWN on a stream kept open,
        # since it may be registered later; ours never is, so the answer stands to drain.
        async for status in self._state.changes(self._heartbeat_s):
            yield health_pb2.HealthCheckResponse(status=status if known else SERVICE_UNKNOWN)


class DependencyMonitor:
    """Watches each hard dependency's health over its channel and reports to the state.

    A broken Watch stream counts as NOT_SERVING until it can be re-established, so a
    dependency that is down marks this service NOT_SERVING within one retry interval.
    Like every outbound call, a watch has a deadline (``watch_period_s``); when it runs
    out the watch is renewed at once and the dependency's status stands meanwhile.
    """

    def __init__(
        self,
        state: HealthState,
        channels: Mapping[str, grpc.aio.Channel],
        retry_interval_s: float = 1.0,
        watch_period_s: float = 300.0,
    ) -> None:
        self._state = state
        self._channels = channels
        self._retry_interval_s = retry_interval_s
        self._watch_period_s = watch_period_s
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        for name, channel in self._channels.items():
            task = asyncio.create_task(self._watch(name, channel), name=f"health-watch-{name}")
            self._tasks.append(task)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def _watch(self, name: str, channel: grpc.aio.Channel) -> None:
        stub = health_pb2_grpc.HealthStub(channel)  # type: ignore[no-untyped-call]
        while True:
            if await self._watch_once(name, stub):
                continue  # the period ran out with the dependency reachable: renew now
            await self._state.set_dependency(name, False)
            await asyncio.sleep(self._retry_interval_s)

    async def _watch_once(self, name: str, stub: Any) -> bool:
        """Follows one Watch; True if it only ended because its period ran out."""
        request = health_pb2.HealthCheckRequest(service="")
        try:
            async for reply in stub.Watch(request, timeout=self._watch_period_s):
                await self._state.set_dependency(name, reply.status == SERVING)
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                return True
            _log.debug(
                "dependency watch failed",
                extra={"dependency": name, "grpc_code": exc.code().name},
            )
        return False  # failed, or the dependency ended the stream (it is draining)
