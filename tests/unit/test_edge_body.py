"""BodyLimit against scripted ASGI receive streams that HTTP/1.1 framing cannot produce."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from gateway.edge.body import BodyLimit
from gateway.edge.config import EdgeConfig

CONFIG = EdgeConfig(max_body_bytes=10, body_timeout_s=0.2, stream_idle_timeout_s=0.2)


def _scope(content_type: bytes, length: int | None = None) -> dict[str, Any]:
    headers = [(b"content-type", content_type)]
    headers.append((b"content-length", str(length).encode()) if length is not None else
                   (b"transfer-encoding", b"chunked"))  # fmt: skip
    return {"type": "http", "method": "POST", "path": "/v1/x", "headers": headers}


@dataclass
class Exchange:
    """Scripted request messages in, response messages out."""

    incoming: list[dict[str, Any]]
    stall: bool = False
    sent: list[dict[str, Any]] = field(default_factory=list)

    async def receive(self) -> dict[str, Any]:
        if self.incoming:
            return self.incoming.pop(0)
        if self.stall:
            await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int:
        return int(self.sent[0]["status"])


def _chunk(body: bytes, more: bool) -> dict[str, Any]:
    return {"type": "http.request", "body": body, "more_body": more}


async def test_body_longer_than_its_declared_length_gets_413_and_never_reaches_app() -> None:
    """Bytes are counted as they arrive: a Content-Length that lies low does not help."""
    calls: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        calls.append(scope)

    exchange = Exchange([_chunk(b"12345", True), _chunk(b"67890X", False)])
    await asyncio.wait_for(
        BodyLimit(app, CONFIG)(_scope(b"application/json", 5), exchange.receive, exchange.send), 2
    )
    assert exchange.status == 413
    assert json.loads(exchange.sent[1]["body"])["code"] == 8
    assert (b"connection", b"close") in exchange.sent[0]["headers"]
    assert calls == []


async def test_body_at_the_limit_is_replayed_whole_to_the_app() -> None:
    """A body of exactly max_body_bytes reaches the app as one message, then receive passes on."""
    seen: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(await receive())
        seen.append(await receive())

    exchange = Exchange([_chunk(b"12345", True), _chunk(b"67890", False)])
    await asyncio.wait_for(
        BodyLimit(app, CONFIG)(_scope(b"application/json"), exchange.receive, exchange.send), 2
    )
    assert seen == [_chunk(b"1234567890", False), {"type": "http.disconnect"}]


async def test_silent_stream_before_any_response_gets_408() -> None:
    """An NDJSON body idle past stream_idle_timeout_s is answered 408; the app sees a disconnect
    and its late reply is dropped."""
    received: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        received.append(await receive())
        received.append(await receive())
        await send({"type": "http.response.start", "status": 200, "headers": []})

    exchange = Exchange([_chunk(b'{"a":1}\n', True)], stall=True)
    await asyncio.wait_for(
        BodyLimit(app, CONFIG)(_scope(b"application/x-ndjson"), exchange.receive, exchange.send), 2
    )
    assert received[1] == {"type": "http.disconnect"}
    assert exchange.status == 408
    assert len(exchange.sent) == 2  # the 408 only: the app's own start was swallowed


async def test_silent_stream_after_response_started_disconnects_the_app() -> None:
    """Once the app has started answering, an idle request stream ends as a disconnect."""
    received: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        received.append(await receive())
        received.append(await receive())
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    exchange = Exchange([_chunk(b'{"a":1}\n', True)], stall=True)
    await asyncio.wait_for(
        BodyLimit(app, CONFIG)(_scope(b"application/x-ndjson"), exchange.receive, exchange.send), 2
    )
    assert received[1] == {"type": "http.disconnect"}
    assert exchange.status == 200
    assert len(exchange.sent) == 2


async def test_completed_stream_body_has_no_idle_limit() -> None:
    """After the last chunk, waiting on receive (for a disconnect) is not timed out."""
    events: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        try:
            await asyncio.wait_for(receive(), 0.5)
        except TimeoutError:
            events.append("still waiting")

    exchange = Exchange([_chunk(b'{"a":1}\n', False)], stall=True)
    await asyncio.wait_for(
        BodyLimit(app, CONFIG)(_scope(b"application/x-ndjson"), exchange.receive, exchange.send), 2
    )
    assert events == ["still waiting"]
    assert exchange.sent == []
