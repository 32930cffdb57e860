"""The ASGI boundary every REST request passes through (the REST twin of
``interceptors.ServerBoundary``).

It routes, reads the body within its size limit, sets up the call scope (deadline from
``x-request-timeout-ms`` or the default, request and operation ids) for outbound calls,
maps every failure to ``google.rpc.Status`` JSON with the shared HTTP status table,
counts calls per route and operation, and writes the same access-log line as the gRPC
side. It also answers ``GET /healthz`` and ``GET /metrics`` on the same port.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Sequence
from typing import Any

import orjson

from meshkit.asgi import Receive, Scope, Send
from meshkit.errors import Cancelled, DeadlineExceeded, DomainError
from meshkit.http_status import GrpcCode
from meshkit.probes import LIVENESS_PATH, METRICS_PATH, READINESS_PATH
from meshkit.runtime.counters import CallCounters
from meshkit.runtime.deadlines import CallScope, bind_scope, unbind_scope
from meshkit.runtime.logs import AccessLog
from meshkit.runtime.rest.errors import (
    http_status_of,
    internal_document,
    problem_document,
    status_document,
)
from meshkit.runtime.rest.request import RestRequest
from meshkit.runtime.rest.router import Route, Router

REQUEST_ID_HEADER = b"x-request-id"
OPERATION_ID_HEADER = b"x-operation-id"
TIMEOUT_HEADER = b"x-request-timeout-ms"
"""The caller's remaining time in milliseconds: REST has no grpc-timeout, so the
baseline carries its deadline in this header and each hop subtracts what it used."""

_JSON = (b"content-type", b"application/json")
_LIVENESS = LIVENESS_PATH.encode()
_READINESS = READINESS_PATH.encode()
_METRICS = METRICS_PATH.encode()
UNROUTED = "(no route)"
"""How counters and logs name requests that matched no route."""


class _Problem(Exception):
    def __init__(self, http_status: int, document: dict[str, Any], headers: Sequence[Any] = ()):
        super().__init__(document["message"])
        self.http_status = http_status
        self.document = document
        self.headers = list(headers)


class RestApp:
    """Serves ``routes`` as JSON over HTTP with deadlines, error mapping and counters."""

    def __init__(
        self,
        service_name: str,
        routes: Sequence[Route],
        *,
        default_deadline_s: float,
        max_body_bytes: int,
        counters: CallCounters,
        access_log: AccessLog | None = None,
    ) -> None:
        self._service_name = service_name
        self._router = Router(routes)
        self._default_deadline_s = default_deadline_s
        self._max_body_bytes = max_body_bytes
        self._counters = counters
        self._access_log = access_log
        self.draining = False
        """Set by the host when the drain starts: /readyz then answers 503 (/healthz,
        liveness, stays 200)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # lifespan is off; nothing else is served
        method: str = scope["method"]
        raw_path: bytes = scope["raw_path"] or scope["path"].encode()
        if raw_path in (_LIVENESS, _READINESS, _METRICS):
            await self._answer_plain(raw_path, method, send)
            return
        started = time.perf_counter()
        request_id = operation_id = ""
        timeout_ms = content_length = content_type = ""
        for key, value in scope["headers"]:
            if key == REQUEST_ID_HEADER:
                request_id = value[:128].decode("latin-1")
            elif key == OPERATION_ID_HEADER:
                operation_id = value[:128].decode("latin-1")
            elif key == TIMEOUT_HEADER:
                timeout_ms = value.decode("latin-1")
            elif key == b"content-length":
                content_length = value.decode("latin-1")
            elif key == b"content-type":
                content_type = value.decode("latin-1")
        request_id = request_id or f"{random.getrandbits(128):032x}"
        name = UNROUTED  # until a route matches: never the raw path (unbounded counters)
        status = 500
        try:
            route, params = self._route(method, raw_path)
            name = route.name
            timeout = self._timeout(timeout_ms)
            body = await self._body(receive, content_length, content_type)
            call_scope = CallScope(time.monotonic() + timeout, request_id, operation_id)
            request = RestRequest(params, scope["query_string"], scope["headers"], body)
            token = bind_scope(call_scope)
            try:
                async with asyncio.timeout(timeout):
                    document = await route.handler(request)
            finally:
                unbind_scope(token)
            status, headers = 200, []
        except _Problem as problem:
            status, document, headers = problem.http_status, problem.document, problem.headers
        except BaseException as exc:
            mapped = _document_for(exc, name)
            if mapped is None:
                raise
            document, status, headers = mapped, http_status_of(mapped), _retry_after(exc)
        await _send_json(send, status, document, headers)
        self._counters.record(name, operation_id, 1, 1 if status < 400 else 0)
        if self._access_log is not None:
            client = scope.get("client")
            peer = f"{client[0]}:{client[1]}" if client else ""
            code = GrpcCode(document.get("code", 0)).name if status >= 400 else "OK"
            elapsed_ms = (time.perf_counter() - started) * 1000
            self._access_log.write(name, code, elapsed_ms, peer, request_id, operation_id)

    def _route(self, method: str, raw_path: bytes) -> tuple[Route, dict[str, str]]:
        try:
            found = self._router.match(method, raw_path)
        except UnicodeDecodeError:
            message = "path is not UTF-8"
            raise _problem(400, GrpcCode.INVALID_ARGUMENT, message, "BAD_PATH") from None
        if isinstance(found, tuple):
            return found
        if found:
            allow = ", ".join(sorted(set(found)))
            raise _problem(
                405,
                GrpcCode.UNIMPLEMENTED,
                f"method {method} not allowed here; allowed: {allow}",
                "METHOD_NOT_ALLOWED",
                [(b"allow", allow.encode())],
            )
        path = raw_path.decode("latin-1")
        raise _problem(404, GrpcCode.NOT_FOUND, f"no route for {method} {path}", "NO_ROUTE")

    def _timeout(self, timeout_ms: str) -> float:
        if not timeout_ms:
            return self._default_deadline_s
        if not timeout_ms.isdigit() or len(timeout_ms) > 9:
            raise _problem(
                400,
                GrpcCode.INVALID_ARGUMENT,
                f"{TIMEOUT_HEADER.decode()} must be a whole number of milliseconds",
                "BAD_TIMEOUT",
            )
        return int(timeout_ms) / 1000

    async def _body(self, receive: Receive, content_length: str, content_type: str) -> bytes:
        limit = self._max_body_bytes
        if content_length.isdigit() and int(content_length) > limit:
            raise _too_large(limit)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise Cancelled(message="the client went away", reason="CLIENT_DISCONNECTED")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        media_type = content_type.split(";", 1)[0].strip().lower()
        if body and media_type != "application/json":
            raise _problem(
                415,
                GrpcCode.INVALID_ARGUMENT,
                f"request body must be application/json, got {media_type or 'no content type'}",
                "UNSUPPORTED_MEDIA_TYPE",
            )
        return body

    async def _answer_plain(self, raw_path: bytes, method: str, send: Send) -> None:
        if method not in ("GET", "HEAD"):
            problem = _problem(405, GrpcCode.UNIMPLEMENTED, "only GET", "METHOD_NOT_ALLOWED")
            await _send_json(send, 405, problem.document, [(b"allow", b"GET, HEAD")])
            return
        if raw_path == _METRICS:
            await _send_json(
                send, 200, {"service": self._service_name, **self._counters.snapshot()}
            )
            return
        status = "NOT_SERVING" if self.draining else "SERVING"
        document = {"service": self._service_name, "status": status, "draining": self.draining}
        ready = not self.draining
        await _send_json(send, 200 if ready or raw_path == _LIVENESS else 503, document)


def _problem(
    http_status: int,
    code: GrpcCode,
    message: str,
    reason: str,
    headers: Sequence[tuple[bytes, bytes]] = (),
) -> _Problem:
    return _Problem(http_status, problem_document(code, message, reason), headers)


def _too_large(limit: int) -> _Problem:
    return _problem(
        413, GrpcCode.RESOURCE_EXHAUSTED, f"request body over {limit} bytes", "BODY_TOO_LARGE"
    )


def _document_for(exc: BaseException, where: str) -> dict[str, Any] | None:
    """The status document an exception becomes; None when it must propagate (the
    request's task was cancelled: the client is gone, nobody reads an answer)."""
    if not isinstance(exc, Exception):
        return None
    if isinstance(exc, DomainError):
        return status_document(exc)
    if isinstance(exc, TimeoutError):  # our own asyncio.timeout: the deadline passed
        return status_document(
            DeadlineExceeded(message="deadline exceeded", reason="DEADLINE_EXCEEDED")
        )
    return internal_document(exc, where)


def _retry_after(exc: BaseException) -> list[tuple[bytes, bytes]]:
    if isinstance(exc, DomainError) and exc.retry_after_s is not None:
        return [(b"retry-after", str(max(1, math.ceil(exc.retry_after_s))).encode())]
    return []


async def _send_json(
    send: Send,
    status: int,
    document: dict[str, Any],
    headers: Sequence[tuple[bytes, bytes]] = (),
) -> None:
    body = orjson.dumps(document)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [_JSON, (b"content-length", str(len(body)).encode()), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})
