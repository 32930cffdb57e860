"""Request body limits: size (413, R-A10) and read time (408, R-C25).

A JSON body is read whole here, under ``max_body_bytes`` and ``body_timeout_s``, before
the app is called: the transcoder needs all of it before calling upstream anyway, so
this costs no memory beyond the limit, and a rejected body never reaches the app at
all. Bytes are counted as they arrive, whatever Content-Length claimed; a declared
length over the limit is refused before reading (no ``100 Continue`` is sent). Every
rejection closes the connection, since the rest of the body is never read.

An NDJSON body is a client/bidi stream: it is passed through as it arrives (its lines
are bounded by the transcoder), with ``stream_idle_timeout_s`` as the longest silence.
"""

from __future__ import annotations

import asyncio
from http import HTTPStatus

from gateway.edge.config import EdgeConfig
from gateway.http_status import GrpcCode, send_status
from meshkit.asgi import (
    ASGIApp,
    Message,
    Receive,
    Scope,
    Send,
    content_length,
    has_body,
    header,
    media_type,
)

CLOSE = (b"connection", b"close")
DISCONNECT: Message = {"type": "http.disconnect"}


class BodyLimit:
    """Bounds request bodies in bytes and time."""

    def __init__(self, app: ASGIApp, config: EdgeConfig) -> None:
        self._app = app
        self._max_bytes = config.max_body_bytes
        self._timeout_s = config.body_timeout_s
        self._idle_s = config.stream_idle_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        try:
            declared, expected = content_length(scope), has_body(scope)
            streamed = media_type(header(scope, b"content-type") or b"") == "application/x-ndjson"
        except ValueError as exc:
            await send_status(
                send, HTTPStatus.BAD_REQUEST, GrpcCode.INVALID_ARGUMENT, str(exc), [CLOSE]
            )
            return
        if not expected:
            await self._app(scope, receive, send)
        elif streamed:
            guard = _StreamGuard(receive, send, self._idle_s)
            await self._app(scope, guard.receive, guard.send)
        elif declared is not None and declared > self._max_bytes:
            await self._too_large(send)
        else:
            body = await self._read(receive, send)
            if body is not None:
                await self._app(scope, _replay(body, receive), send)

    async def _read(self, receive: Receive, send: Send) -> bytes | None:
        """The whole body, or None once the request is answered (or its client gone)."""
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self._timeout_s):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return None
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > self._max_bytes:
                        break
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        return b"".join(chunks)
        except TimeoutError:
            message_text = f"request body not received within {self._timeout_s:g} s"
            await send_status(
                send, HTTPStatus.REQUEST_TIMEOUT, GrpcCode.DEADLINE_EXCEEDED, message_text, [CLOSE]
            )
            return None
        await self._too_large(send)
        return None

    async def _too_large(self, send: Send) -> None:
        message = f"request body exceeds {self._max_bytes} bytes"
        await send_status(
            send, HTTPStatus.REQUEST_ENTITY_TOO_LARGE, GrpcCode.RESOURCE_EXHAUSTED, message, [CLOSE]
        )


def _replay(body: bytes, receive: Receive) -> Receive:
    """Gives the app the buffered body, then the server's own receive (for disconnects)."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class _StreamGuard:
    """Times out a streamed body that goes silent: 408 if no response has started yet,
    otherwise the app sees a disconnect (so it cancels its upstream call)."""

    def __init__(self, receive: Receive, send: Send, idle_s: float) -> None:
        self._receive, self._send, self._idle_s = receive, send, idle_s
        self._started = self._answered = self._timed_out = self._complete = False

    async def receive(self) -> Message:
        if self._timed_out:
            return DISCONNECT
        if self._complete:  # the body is done: waiting for a disconnect has no time limit
            return await self._receive()
        try:
            async with asyncio.timeout(self._idle_s):
                message = await self._receive()
        except TimeoutError:
            self._timed_out = True
            if not self._started:
                self._answered = True
                text = f"request stream idle for {self._idle_s:g} s"
                await send_status(
                    self._send,
                    HTTPStatus.REQUEST_TIMEOUT,
                    GrpcCode.DEADLINE_EXCEEDED,
                    text,
                    [CLOSE],
                )
            return DISCONNECT
        self._complete = message["type"] != "http.request" or not message.get("more_body", False)
        return message

    async def send(self, message: Message) -> None:
        if self._answered:  # the app's late reply to a request already answered with 408
            return
        if message["type"] == "http.response.start":
            self._started = True
        await self._send(message)
