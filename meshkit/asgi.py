"""ASGI 3 types and the few header helpers every edge middleware needs.

Scopes and messages are plain ``dict[str, Any]`` (as servers build them), so any ASGI
app typed the same way, the transcoder included, composes with these middlewares.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Header = tuple[bytes, bytes]


def header_values(scope: Scope, name: bytes) -> list[bytes]:
    """Every value of request header ``name`` (lower-case, as ASGI servers deliver)."""
    return [value for key, value in scope["headers"] if key == name]


def header(scope: Scope, name: bytes) -> bytes | None:
    """The single value of request header ``name``; None when absent.

    Raises ValueError when it is repeated, since which copy counts is exactly the
    ambiguity request-smuggling and auth-confusion attacks rely on.
    """
    values = header_values(scope, name)
    if len(values) > 1:
        raise ValueError(f"header {name.decode('latin-1')} is repeated")
    return values[0] if values else None


def content_length(scope: Scope) -> int | None:
    """The declared Content-Length; None when absent. ValueError when malformed."""
    raw = header(scope, b"content-length")
    if raw is None:
        return None
    if not raw.isdigit():
        raise ValueError("content-length is not a decimal number")
    return int(raw)


def has_body(scope: Scope) -> bool:
    """Whether the request carries a body (a non-zero length, or a chunked one)."""
    return bool(content_length(scope)) or bool(header_values(scope, b"transfer-encoding"))


def media_type(value: bytes) -> str:
    """The lower-cased media type of a Content-Type value, without parameters."""
    return value.split(b";", 1)[0].strip().decode("latin-1").lower()


def with_response_headers(send: Send, extra: Callable[[Message], Iterable[Header]]) -> Send:
    """Wraps ``send`` so ``extra(start_message)`` is appended to the response headers.

    The message is copied, never mutated: an app may resend the same dict (a cache replay).
    """

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            added = list(extra(message))
            if added:
                message = {**message, "headers": [*message.get("headers", ()), *added]}
        await send(message)

    return wrapped
