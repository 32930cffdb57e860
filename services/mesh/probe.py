"""One grpc.health.v1 Check("") against a service, reduced to a word for a person."""

from __future__ import annotations

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

SERVING = "SERVING"
UNREACHABLE = "UNREACHABLE"
DEFAULT_CHECK_TIMEOUT_S = 1.0
"""Per-call deadline: a local service that takes longer than this is not ready."""

# A refused connection puts a channel into back-off (1 s, growing); while a service is
# starting we want the next poll to try again promptly instead.
_PROBE_OPTIONS = (
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 500),
)


def probe_channel(address: str) -> grpc.aio.Channel:
    """A channel for repeated health checks of one starting service."""
    return grpc.aio.insecure_channel(address, options=_PROBE_OPTIONS)


async def check(channel: grpc.aio.Channel, timeout_s: float = DEFAULT_CHECK_TIMEOUT_S) -> str:
    """The serving status name (SERVING, NOT_SERVING, ...) or UNREACHABLE; never raises
    for a failed call."""
    stub = health_pb2_grpc.HealthStub(channel)  # type: ignore[no-untyped-call]
    try:
        reply = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=timeout_s)
    except grpc.aio.AioRpcError as exc:
        if exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
            return UNREACHABLE
        return exc.code().name
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))


async def check_once(address: str, timeout_s: float = DEFAULT_CHECK_TIMEOUT_S) -> str:
    """``check`` over a fresh channel, closed afterwards."""
    async with probe_channel(address) as channel:
        return await check(channel, timeout_s)
