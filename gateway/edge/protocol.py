"""uvicorn's httptools protocol plus the two guards bare uvicorn lacks (R-C24, R-A13).

Bare uvicorn (0.54, httptools 0.9) has no request-head timeout: a client that sends a
partial head and then trickles bytes, or nothing, holds its connection forever. Nor does
httptools cap the head: a 2 MB header block is buffered and handed to the app. This
subclass arms a timer when a request head starts (the connection opening, or the first
byte after the previous response) and cancels it when the head is complete; a head that
takes longer than ``header_timeout_s`` gets 408 and the connection is closed (silently
if not a byte arrived). Bytes read while a head is incomplete are counted; past
``max_head_bytes`` the client gets 431 and the connection is closed, so memory per
connection stays bounded however the head is sent. A response completed while its
request's body is still arriving (a rejection) closes the connection rather than read
and drop the rest.

It relies on uvicorn internals (``on_headers_complete``, ``cycle``), which is why the
uvicorn version is pinned exactly; ``tests/integration/test_edge_http.py`` drives both
guards through a real socket and would catch a drift.
"""

from __future__ import annotations

import asyncio
from http import HTTPStatus
from typing import ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from gateway.edge.config import DEFAULT_HEADER_TIMEOUT_S, DEFAULT_MAX_HEADER_BYTES, EdgeConfig
from gateway.http_status import GrpcCode, status_body

REQUEST_LINE_ALLOWANCE = 8 * 1024
"""Head bytes allowed on top of ``max_header_bytes``: the request line and CRLFs. The
edge's ``HeaderLimits`` then applies the exact header limit with a JSON 431."""


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """HttpToolsProtocol with a request-head timeout and a request-head byte cap."""

    header_timeout_s: ClassVar[float] = DEFAULT_HEADER_TIMEOUT_S
    max_head_bytes: ClassVar[int] = DEFAULT_MAX_HEADER_BYTES + REQUEST_LINE_ALLOWANCE

    _head_timer: asyncio.TimerHandle | None = None
    _head_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head()

    def data_received(self, data: bytes) -> None:
        cycle: RequestResponseCycle | None = self.cycle
        if self._head_timer is None and (cycle is None or cycle.response_complete):
            self._start_head()  # between requests: these bytes begin the next head
        if self._head_timer is not None:
            self._head_bytes += len(data)
        super().data_received(data)
        if self._head_timer is not None and self._head_bytes > self.max_head_bytes:
            self._reject(
                HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                GrpcCode.RESOURCE_EXHAUSTED,
                f"request head exceeds {self.max_head_bytes} bytes",
            )

    def on_headers_complete(self) -> None:
        self._stop_head()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        cycle: RequestResponseCycle | None = self.cycle
        if cycle is not None and cycle.more_body:
            # Answered while its body is still arriving (a rejection): close rather than
            # read and drop whatever the client still sends (RFC 9112 §9.6), which would
            # also be counted as the next head.
            self.transport.close()
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head()
        super().connection_lost(exc)

    def _start_head(self) -> None:
        self._head_bytes = 0
        self._head_timer = self.loop.call_later(self.header_timeout_s, self._head_timed_out)

    def _stop_head(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self._head_bytes:  # an idle connection: nothing was asked, nothing to answer
            self.transport.close()
            return
        text = f"request head not received within {self.header_timeout_s:g} s"
        self._reject(HTTPStatus.REQUEST_TIMEOUT, GrpcCode.DEADLINE_EXCEEDED, text)

    def _reject(self, status: HTTPStatus, code: GrpcCode, message: str) -> None:
        self._stop_head()
        if self.transport.is_closing():
            return
        body = status_body(code, message)
        head = (
            f"HTTP/1.1 {status.value} {status.phrase}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
        )
        self.transport.write(head.encode() + body)
        self.transport.close()


def guarded_protocol(config: EdgeConfig) -> type[GuardedHttpToolsProtocol]:
    """The protocol class to pass as ``uvicorn.Config(http=...)``, with ``config``'s limits."""

    class ConfiguredProtocol(GuardedHttpToolsProtocol):
        header_timeout_s = config.header_timeout_s
        max_head_bytes = config.max_header_bytes + REQUEST_LINE_ALLOWANCE

    return ConfiguredProtocol
