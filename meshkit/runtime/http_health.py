"""Plain HTTP/1.1 probes on their own port: ``/healthz``, ``/readyz`` and ``/metrics``.

VPC Lattice target groups and container health checks cannot speak gRPC, so they probe
``/healthz``: liveness, 200 as long as this event loop answers (draining or not,
whatever the dependencies do), because ECS replaces a task that fails either check.
``/readyz`` is readiness, the gRPC health status over HTTP: 200 while SERVING, 503
otherwise. Both carry the same small JSON body. ``/metrics`` is the server's call and
message counters as JSON (the load test reads it). Deliberately tiny: bounded request
size and read time, one response per connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

from meshkit.probes import LIVENESS_PATH, METRICS_PATH, READINESS_PATH
from meshkit.runtime.counters import CallCounters
from meshkit.runtime.health import SERVING, HealthState

MAX_REQUEST_BYTES = 8 * 1024
READ_TIMEOUT_S = 5.0


class HealthHttpServer:
    """Serves /healthz (liveness) and /readyz (readiness, from a HealthState)."""

    def __init__(
        self, state: HealthState, service_name: str, counters: CallCounters | None = None
    ) -> None:
        self._state = state
        self._service_name = service_name
        self._counters = counters
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> int:
        """Starts listening; returns the bound port (useful with port 0)."""
        self._server = await asyncio.start_server(self._handle, host, port, limit=MAX_REQUEST_BYTES)
        sockets = self._server.sockets
        return int(sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(READ_TIMEOUT_S):
                head = await reader.readuntil(b"\r\n\r\n")
            status, body = self._respond(head)
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            head, status, body = b"", "400 Bad Request", {"error": "malformed or slow request"}
        except ConnectionError:
            return
        payload = json.dumps(body).encode()
        headers = (
            f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
        ).encode()
        writer.write(headers if head.startswith(b"HEAD ") else headers + payload)
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()

    def _respond(self, head: bytes) -> tuple[str, dict[str, object]]:
        request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        parts = request_line.split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            return "400 Bad Request", {"error": "malformed request line"}
        method, target = parts[0], parts[1].split("?", 1)[0]
        if target == METRICS_PATH and self._counters is not None and method in {"GET", "HEAD"}:
            return "200 OK", {"service": self._service_name, **self._counters.snapshot()}
        if target not in (LIVENESS_PATH, READINESS_PATH):
            return "404 Not Found", {"error": f"no route {target}"}
        if method not in {"GET", "HEAD"}:
            return "405 Method Not Allowed", {"error": f"method {method} not allowed"}
        body: dict[str, object] = {
            "service": self._service_name,
            "status": self._state.status_name,
            "draining": self._state.draining,
            "unhealthy_dependencies": sorted(self._state.unhealthy_dependencies),
        }
        ready = self._state.status == SERVING
        return ("200 OK" if ready or target == LIVENESS_PATH else "503 Service Unavailable"), body
