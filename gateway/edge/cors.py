"""CORS: preflights answered at the edge, allowed origins marked on every response.

A preflight (OPTIONS with ``Access-Control-Request-Method``) carries no credentials, so
it is answered here, before authentication, and never reaches the app. Credentialed
CORS (cookies) is not offered: clients authenticate with headers, which the allowed
header list covers. ``Vary: Origin`` is on every response so a shared cache never hands
one origin's answer to another.
"""

from __future__ import annotations

from collections.abc import Iterable
from http import HTTPStatus

from gateway.edge.config import EdgeConfig
from gateway.http_status import GrpcCode, send_status
from meshkit.asgi import (
    ASGIApp,
    Header,
    Message,
    Receive,
    Scope,
    Send,
    header_values,
    with_response_headers,
)

VARY_ORIGIN: Header = (b"vary", b"origin")


class Cors:
    """Answers preflights and adds Access-Control-* headers for allowed origins."""

    def __init__(self, app: ASGIApp, config: EdgeConfig) -> None:
        self._app = app
        self._enabled = bool(config.cors_origins)
        self._any_origin = config.cors_origins == ("*",)
        self._origins = frozenset(origin.encode() for origin in config.cors_origins)
        self._methods = frozenset(method.upper() for method in config.cors_allow_methods)
        self._headers = frozenset(name.lower() for name in config.cors_allow_headers)
        self._preflight: list[Header] = [
            (b"access-control-allow-methods", ", ".join(config.cors_allow_methods).encode()),
            (b"access-control-allow-headers", ", ".join(config.cors_allow_headers).encode()),
            (b"access-control-max-age", str(config.cors_max_age_s).encode()),
        ]
        self._expose: Header = (
            b"access-control-expose-headers",
            ", ".join(config.cors_expose_headers).encode(),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._enabled:
            await self._app(scope, receive, send)
            return
        origins = header_values(scope, b"origin")
        origin = origins[0] if len(origins) == 1 else None
        requested = header_values(scope, b"access-control-request-method")
        if scope["method"] == "OPTIONS" and origin is not None and requested:
            await self._answer_preflight(scope, origin, requested[0], send)
            return

        def cors_headers(_: Message) -> Iterable[Header]:
            allowed = origin is not None and self._allows(origin)
            return [*self._allow_origin(origin), self._expose] if allowed else [VARY_ORIGIN]

        await self._app(scope, receive, with_response_headers(send, cors_headers))

    async def _answer_preflight(
        self, scope: Scope, origin: bytes, method: bytes, send: Send
    ) -> None:
        listed = b",".join(header_values(scope, b"access-control-request-headers"))
        names = {name.strip().lower().decode("latin-1") for name in listed.split(b",")} - {""}
        method_name = method.strip().decode("latin-1").upper()
        if not self._allows(origin) or method_name not in self._methods or names - self._headers:
            await send_status(
                send,
                HTTPStatus.FORBIDDEN,
                GrpcCode.PERMISSION_DENIED,
                "CORS preflight refused: origin, method or headers not allowed",
                [VARY_ORIGIN],
            )
            return
        headers = [*self._allow_origin(origin), *self._preflight]
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    def _allows(self, origin: bytes) -> bool:
        return self._any_origin or origin in self._origins

    def _allow_origin(self, origin: bytes | None) -> list[Header]:
        value = b"*" if self._any_origin or origin is None else origin
        return [(b"access-control-allow-origin", value), VARY_ORIGIN]
