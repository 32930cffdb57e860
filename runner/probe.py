"""One health check, reduced to a word for a person: grpc.health.v1 Check("") against a
service, ``GET /healthz`` against the gateway."""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

SERVING = "SERVING"
NOT_SERVING = "NOT_SERVING"
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


async def check_http(url: str, timeout_s: float = DEFAULT_CHECK_TIMEOUT_S) -> str:
    """``GET url`` (plain HTTP) once: SERVING for 200, NOT_SERVING for 503 (draining),
    ``HTTP <status>`` for anything else, UNREACHABLE when no response arrives within
    ``timeout_s``; never raises for a failed request.

    Only the status line is read; the runner needs no HTTP client library for that.
    """
    parts = urlsplit(url)
    request = (
        f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n"
    )
    try:
        async with asyncio.timeout(timeout_s):
            reader, writer = await asyncio.open_connection(parts.hostname, parts.port or 80)
            try:
                writer.write(request.encode("ascii"))
                await writer.drain()
                status_line = await reader.readline()
            finally:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
    except (OSError, TimeoutError):
        return UNREACHABLE
    words = status_line.split()
    if len(words) < 2 or not words[0].startswith(b"HTTP/") or not words[1].isdigit():
        return UNREACHABLE  # closed early, or not an HTTP server
    status = int(words[1])
    return {200: SERVING, 503: NOT_SERVING}.get(status, f"HTTP {status}")
