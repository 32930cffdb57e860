"""Request head checks, answered from the scope alone before any body is read.

431 for an oversized header block (R-A13), 400 for underscores in header names (R-A12:
proxies disagree on whether ``x_user`` means ``x-user``, so such names are a spoofing
vector) and for a malformed Content-Length, 415 for a body that is not JSON or NDJSON
(R-A11; ``application/grpc`` included, so gRPC never tunnels through the REST port).
"""

from __future__ import annotations

from http import HTTPStatus

from gateway.edge.config import EdgeConfig
from gateway.http_status import GrpcCode, send_status
from meshkit.asgi import ASGIApp, Receive, Scope, Send, has_body, header, media_type

ACCEPTED_MEDIA_TYPES = frozenset({"application/json", "application/x-ndjson"})
_HEADER_OVERHEAD = 4
"""": " and CRLF per header line, so the count matches the bytes on the wire."""


class HeaderLimits:
    """Rejects requests whose head is too large, ambiguous or of the wrong media type."""

    def __init__(self, app: ASGIApp, config: EdgeConfig) -> None:
        self._app = app
        self._max_bytes = config.max_header_bytes
        self._max_count = config.max_header_count

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        rejection = self._check(scope)
        if rejection is None:
            await self._app(scope, receive, send)
            return
        status, code, message = rejection
        # The body (if any) is left unread, so the connection cannot be reused.
        await send_status(send, status, code, message, [(b"connection", b"close")])

    def _check(self, scope: Scope) -> tuple[int, GrpcCode, str] | None:
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        size = sum(len(name) + len(value) + _HEADER_OVERHEAD for name, value in headers)
        if size > self._max_bytes or len(headers) > self._max_count:
            return (
                HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                GrpcCode.RESOURCE_EXHAUSTED,
                f"request headers exceed {self._max_bytes} bytes or {self._max_count} fields",
            )
        for name, _ in headers:
            if b"_" in name:
                return (
                    HTTPStatus.BAD_REQUEST,
                    GrpcCode.INVALID_ARGUMENT,
                    f"header name {name[:64].decode('latin-1')!r} contains an underscore",
                )
        try:
            if not has_body(scope):
                return None
            content_type = header(scope, b"content-type")
        except ValueError as exc:
            return HTTPStatus.BAD_REQUEST, GrpcCode.INVALID_ARGUMENT, str(exc)
        return _check_content_type(content_type)


def _check_content_type(value: bytes | None) -> tuple[int, GrpcCode, str] | None:
    """JSON or NDJSON, with no parameter other than ``charset=utf-8``."""
    unsupported = HTTPStatus.UNSUPPORTED_MEDIA_TYPE, GrpcCode.INVALID_ARGUMENT
    if value is None:
        return *unsupported, "a request body needs Content-Type: application/json"
    kind = media_type(value)
    if kind.startswith("application/grpc"):
        return *unsupported, "gRPC is served on the services' gRPC ports, not the REST gateway"
    if kind not in ACCEPTED_MEDIA_TYPES:
        return *unsupported, f"content type {kind[:64]!r} is not application/json or x-ndjson"
    for parameter in value.split(b";")[1:]:
        name, _, param_value = parameter.strip().partition(b"=")
        if name.lower() != b"charset" or param_value.strip(b'"').lower() != b"utf-8":
            return *unsupported, "the only content-type parameter accepted is charset=utf-8"
    return None
