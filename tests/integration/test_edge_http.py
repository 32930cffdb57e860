"""The edge over real HTTP: uvicorn on 127.0.0.1 port 0, with the gateway's own settings
(``uvicorn_config``, ``DrainingServer``), serving ``build_edge`` around a dummy app that
echoes what it receives and counts its calls. Every rejection asserts the app was never
called. aiohttp plays well-behaved clients; raw sockets play hostile ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import aiohttp
import pytest

from gateway.edge import Drain, EdgeConfig, build_edge
from gateway.edge.config import Credential
from gateway.edge.server import DrainingServer, uvicorn_config

WEB_KEY = "web-key-0123456789abcdef"
BATCH_KEY = "batch-key-0123456789abcdef"
OPS_TOKEN = "ops-token-0123456789abcdef"
WRONG_KEY = "wrong-key-0123456789abcdef"
ORIGIN = "https://shop.example"

CONFIG = EdgeConfig(
    max_header_bytes=4096,
    max_body_bytes=2048,
    header_timeout_s=0.5,
    body_timeout_s=0.5,
    stream_idle_timeout_s=0.5,
    auth_routes=(("/v1/private", "api_key"), ("/v1/ops", "bearer")),
    api_keys=(Credential("web", WEB_KEY), Credential("batch", BATCH_KEY)),
    bearer_tokens=(Credential("ops", OPS_TOKEN),),
    rate_per_s=0.0,
    cache_ttls=(("/v1/cached", 30.0), ("/v1/private/cached", 30.0)),
    cors_origins=(ORIGIN,),
    drain_grace_s=0.3,
    shutdown_grace_s=2.0,
)
"""Small limits and short timeouts so every bound is reached quickly."""
PROTOCOL_HEAD_CAP = CONFIG.max_header_bytes + 8 * 1024


@dataclass
class DummyApp:
    """The upstream stand-in: echoes path, body size, client id and headers; counts calls.

    Paths ending in ``/hold`` wait for ``release``; ``/stream`` answers NDJSON;
    ``/cookie`` sets a cookie.
    """

    calls: int = 0
    held: asyncio.Queue[None] = field(default_factory=asyncio.Queue)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        self.calls += 1
        call = self.calls
        body = b""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        path: str = scope["path"]
        if path.endswith("/hold"):
            self.held.put_nowait(None)
            await self.release.wait()
        if path.endswith("/stream"):
            await _start(send, 200, [(b"content-type", b"application/x-ndjson")])
            for n in range(2):
                line = json.dumps({"result": n}).encode() + b"\n"
                await send({"type": "http.response.body", "body": line, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        document = {
            "call": call,
            "path": path,
            "query": scope["query_string"].decode(),
            "body_bytes": len(body),
            "client_id": scope.get("state", {}).get("client_id"),
            "headers": [[k.decode(), v.decode("latin-1")] for k, v in scope["headers"]],
        }
        payload = json.dumps(document).encode()
        headers = [(b"content-type", b"application/json")]
        headers.append((b"content-length", str(len(payload)).encode()))
        if path.endswith("/cookie"):
            headers.append((b"set-cookie", b"session=1"))
        await _start(send, 200, headers)
        await send({"type": "http.response.body", "body": payload, "more_body": False})


async def _start(send: Any, status: int, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})


@dataclass
class Edge:
    """A running edge and the handles tests need."""

    port: int
    app: DummyApp
    drain: Drain
    server: DrainingServer
    task: asyncio.Task[None]


@contextlib.asynccontextmanager
async def serving(config: EdgeConfig = CONFIG) -> AsyncIterator[Edge]:
    """Serves build_edge(DummyApp) as the gateway will, and stops it afterwards."""
    app, drain = DummyApp(), Drain(config.drain_grace_s)
    settings = uvicorn_config(
        build_edge(app, config, drain),
        config,
        host="127.0.0.1",
        port=0,
        log_config=None,
        lifespan="off",
    )
    server = DrainingServer(settings, drain, config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(5):
            while not server.started:  # uvicorn offers no start-up event to wait on
                if task.done():
                    await task
                await asyncio.sleep(0.01)
        port = int(server.servers[0].sockets[0].getsockname()[1])
        yield Edge(port, app, drain, server, task)
    finally:
        app.release.set()
        server.should_exit = True
        await asyncio.wait_for(task, 10)


@pytest.fixture
async def edge() -> AsyncIterator[Edge]:
    async with serving() as running:
        yield running


Background = Callable[[Coroutine[Any, Any, Any]], asyncio.Task[Any]]


@pytest.fixture
async def background() -> AsyncIterator[Background]:
    """Starts tasks that are cancelled and awaited at teardown, even if the test failed."""
    tasks: list[asyncio.Task[Any]] = []

    def start(coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        tasks.append(asyncio.create_task(coroutine))
        return tasks[-1]

    yield start
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


@contextlib.asynccontextmanager
async def client(edge: Edge) -> AsyncIterator[aiohttp.ClientSession]:
    timeout = aiohttp.ClientTimeout(total=5)
    async with aiohttp.ClientSession(f"http://127.0.0.1:{edge.port}", timeout=timeout) as session:
        yield session


@dataclass
class Reply:
    """A response read whole."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


async def fetch(session: aiohttp.ClientSession, method: str, path: str, **kwargs: Any) -> Reply:
    async with session.request(method, path, **kwargs) as response:
        return Reply(response.status, response.headers, await response.read())


def _parse(data: bytes) -> Reply:
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Reply(int(lines[0].split(" ")[1]), headers, body)


async def exchange(port: int, data: bytes) -> Reply:
    """Sends raw bytes and reads until the server closes (requests say Connection: close)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        async with asyncio.timeout(5):
            return _parse(await reader.read())
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


@dataclass
class Trickled:
    """What a trickling client saw: the answer (None if closed silently), when, and how
    many bytes it had sent by then."""

    reply: Reply | None
    elapsed_s: float
    sent: int


async def trickle(port: int, first: bytes, piece: bytes, every_s: float) -> Trickled:
    """Sends ``first``, then ``piece`` every ``every_s`` until the server answers or closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.monotonic()
    writer.write(first)
    sent, data = len(first), b""
    try:
        async with asyncio.timeout(5):
            while True:
                try:
                    chunk = await asyncio.wait_for(reader.read(65536), every_s)
                except TimeoutError:
                    if not writer.is_closing():
                        writer.write(piece)
                        sent += len(piece)
                    continue
                if not chunk:
                    break
                data += chunk
    except ConnectionError:
        pass  # a reset after the answer was read
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    return Trickled(_parse(data) if data else None, time.monotonic() - started, sent)


def _head(method: str, path: str, *headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: edge.test", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


# --- health, pass-through ------------------------------------------------------------


async def test_healthz_is_answered_by_the_edge_itself(edge: Edge) -> None:
    """GET /healthz is 200 SERVING without reaching the app."""
    async with client(edge) as session:
        reply = await fetch(session, "GET", "/healthz")
    assert (reply.status, reply.json()) == (200, {"status": "SERVING"})
    assert edge.app.calls == 0


async def test_valid_request_reaches_app_once_with_its_body(edge: Edge) -> None:
    """A well-formed JSON POST passes every layer and the app sees its whole body once."""
    async with client(edge) as session:
        reply = await fetch(session, "POST", "/v1/things?x=1", json={"a": "b" * 100})
    assert reply.status == 200
    assert reply.json()["body_bytes"] == len(json.dumps({"a": "b" * 100}))
    assert reply.json()["query"] == "x=1"
    assert edge.app.calls == 1


# --- request limits: headers (A11, A12, A13) -------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        [f"X-Pad: {'a' * CONFIG.max_header_bytes}"],
        [f"X-Pad-{n}: a" for n in range(CONFIG.max_header_count)],
    ],
    ids=["bytes", "count"],
)
async def test_header_block_over_limit_gets_431_json_without_reaching_app(
    edge: Edge, headers: list[str]
) -> None:
    """More header bytes or fields than allowed is 431 RESOURCE_EXHAUSTED (R-A13)."""
    reply = await exchange(edge.port, _head("GET", "/v1/x", *headers, "Connection: close"))
    assert reply.status == 431
    assert reply.json()["code"] == 8
    assert reply.headers["content-type"] == "application/json"
    assert edge.app.calls == 0


async def test_huge_header_block_is_cut_off_while_still_arriving(edge: Edge) -> None:
    """A head growing without end gets 431 and a closed connection soon after the cap,
    instead of being buffered (bare uvicorn + httptools accepts megabytes)."""
    first = b"GET /v1/x HTTP/1.1\r\nHost: edge.test\r\nX-Big: "
    seen = await trickle(edge.port, first, b"a" * 4096, every_s=0.02)
    assert seen.reply is not None
    assert seen.reply.status == 431
    assert seen.reply.json()["code"] == 8
    assert seen.sent < PROTOCOL_HEAD_CAP + 3 * 4096
    assert edge.app.calls == 0


async def test_underscore_in_header_name_gets_400(edge: Edge) -> None:
    """``X_User`` could be read as ``X-User`` by a proxy behind us: rejected (R-A12)."""
    reply = await exchange(edge.port, _head("GET", "/v1/x", "X_User: admin", "Connection: close"))
    assert reply.status == 400
    assert reply.json()["code"] == 3
    assert "underscore" in reply.json()["message"]
    assert edge.app.calls == 0


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "application/grpc",
        "application/grpc+proto",
        "application/xml",
        "application/json; charset=latin-1",
    ],
)
async def test_body_of_wrong_content_type_gets_415(edge: Edge, content_type: str | None) -> None:
    """A body that is not JSON/NDJSON in UTF-8 is 415; gRPC is not tunnelled (R-A11)."""
    headers = ["Content-Length: 2", "Connection: close"]
    if content_type is not None:
        headers.append(f"Content-Type: {content_type}")
    reply = await exchange(edge.port, _head("POST", "/v1/x", *headers) + b"{}")
    assert reply.status == 415
    assert reply.json()["code"] == 3
    assert edge.app.calls == 0


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=UTF-8", "application/x-ndjson"],
)
async def test_json_or_ndjson_body_is_accepted(edge: Edge, content_type: str) -> None:
    """JSON and NDJSON bodies, optionally charset=utf-8, reach the app."""
    async with client(edge) as session:
        reply = await fetch(
            session, "POST", "/v1/x", data=b'{"a":1}\n', headers={"Content-Type": content_type}
        )
    assert reply.status == 200
    assert reply.json()["body_bytes"] == 8
    assert edge.app.calls == 1


# --- request limits: body (A10, C25) -------------------------------------------------


async def test_declared_body_over_limit_gets_413_before_any_body_is_sent(edge: Edge) -> None:
    """Content-Length over the limit is refused on the head alone: no 100 Continue (R-A10)."""
    head = _head(
        "POST",
        "/v1/x",
        "Content-Type: application/json",
        f"Content-Length: {CONFIG.max_body_bytes + 1}",
        "Expect: 100-continue",
    )
    reply = await exchange(edge.port, head)
    assert reply.status == 413
    assert reply.json()["code"] == 8
    assert reply.headers["connection"] == "close"
    assert edge.app.calls == 0


async def test_chunked_body_over_limit_gets_413_and_reading_stops(edge: Edge) -> None:
    """A chunked body is counted as it streams; past the limit: 413, connection closed."""
    head = _head("POST", "/v1/x", "Content-Type: application/json", "Transfer-Encoding: chunked")
    chunk = b"200\r\n" + b"a" * 512 + b"\r\n"
    seen = await trickle(edge.port, head, chunk, every_s=0.02)
    assert seen.reply is not None
    assert seen.reply.status == 413
    assert seen.sent < len(head) + CONFIG.max_body_bytes + 3 * len(chunk)
    assert edge.app.calls == 0


async def test_body_of_exactly_the_limit_is_accepted(edge: Edge) -> None:
    """max_body_bytes itself is allowed (the 413 tests cover one byte more)."""
    body = b'"' + b"a" * (CONFIG.max_body_bytes - 2) + b'"'
    async with client(edge) as session:
        reply = await fetch(
            session, "POST", "/v1/x", data=body, headers={"Content-Type": "application/json"}
        )
    assert reply.status == 200
    assert reply.json()["body_bytes"] == CONFIG.max_body_bytes


async def test_slow_body_gets_408_within_body_timeout(edge: Edge) -> None:
    """A body trickled slower than body_timeout_s allows is 408 and closed (R-C25)."""
    head = _head("POST", "/v1/x", "Content-Type: application/json", "Content-Length: 1000")
    seen = await trickle(edge.port, head + b"[1", b",1", every_s=0.1)
    assert seen.reply is not None
    assert seen.reply.status == 408
    assert seen.reply.json()["code"] == 4
    assert CONFIG.body_timeout_s * 0.9 <= seen.elapsed_s < CONFIG.body_timeout_s + 1.0
    assert edge.app.calls == 0


# --- slowloris (C24) ---------------------------------------------------------------------


async def test_slowloris_head_gets_408_while_normal_traffic_is_served(
    edge: Edge, background: Background
) -> None:
    """A head trickled forever is cut at header_timeout_s; others are served meanwhile (R-C24)."""
    first = b"GET /v1/x HTTP/1.1\r\nHost: edge.test\r\n"
    slow = background(trickle(edge.port, first, b"X-Slow: a\r\n", every_s=0.1))
    async with client(edge) as session:
        assert (await fetch(session, "GET", "/v1/x")).status == 200
    seen = await slow
    assert seen.reply is not None
    assert seen.reply.status == 408
    assert CONFIG.header_timeout_s * 0.9 <= seen.elapsed_s < CONFIG.header_timeout_s + 1.0
    assert edge.app.calls == 1


async def test_silent_connection_is_closed_after_header_timeout(edge: Edge) -> None:
    """A connection that never sends a byte is closed (without an answer) at the timeout."""
    reader, writer = await asyncio.open_connection("127.0.0.1", edge.port)
    started = time.monotonic()
    try:
        async with asyncio.timeout(5):
            assert await reader.read() == b""
    finally:
        writer.close()
    assert CONFIG.header_timeout_s * 0.9 <= time.monotonic() - started < CONFIG.header_timeout_s + 1


# --- concurrency (C26) -----------------------------------------------------------------


async def test_concurrency_limit_answers_503_at_once_and_in_flight_complete(
    background: Background,
) -> None:
    """Past max_concurrency a request gets an immediate 503 + Retry-After (its connection
    closed if its body has not arrived); /healthz still answers; the admitted requests finish
    normally (R-C26)."""
    async with serving(replace(CONFIG, max_concurrency=2)) as edge, client(edge) as session:
        holds = [background(fetch(session, "GET", "/v1/x/hold")) for _ in range(2)]
        for _ in holds:
            await asyncio.wait_for(edge.app.held.get(), 5)
        started = time.monotonic()
        refused = await fetch(session, "GET", "/v1/x")
        assert time.monotonic() - started < 0.5
        assert (refused.status, refused.headers["Retry-After"]) == (503, "1")
        assert refused.json()["code"] == 14
        assert (await fetch(session, "GET", "/healthz")).status == 200
        # Refused before its body arrived: closed, not kept open to read and drop the body.
        head = _head("POST", "/v1/x", "Content-Type: application/json", "Content-Length: 2")
        assert (await exchange(edge.port, head)).status == 503
        assert edge.app.calls == 2
        edge.app.release.set()
        assert [reply.status for reply in await asyncio.gather(*holds)] == [200, 200]
        assert (await fetch(session, "GET", "/v1/x")).status == 200


# --- authentication ----------------------------------------------------------------------


async def test_missing_or_wrong_api_key_gets_401_and_no_key_is_ever_logged_or_echoed(
    edge: Edge, caplog: pytest.LogCaptureFixture
) -> None:
    """No key or a wrong key is 401 with a challenge; the right one reaches the app as a
    client id with the key header removed; no key appears in any log line or reply."""
    caplog.set_level(logging.DEBUG)
    async with client(edge) as session:
        missing = await fetch(session, "GET", "/v1/private/x")
        wrong = await fetch(session, "GET", "/v1/private/x", headers={"X-Api-Key": WRONG_KEY})
        assert edge.app.calls == 0
        good = await fetch(session, "GET", "/v1/private/x", headers={"X-Api-Key": WEB_KEY})
    for reply, reason in ((missing, "missing"), (wrong, "invalid")):
        assert reply.status == 401
        assert reply.json()["code"] == 16
        assert reply.json()["message"].startswith(reason)
        assert reply.headers["WWW-Authenticate"].startswith("ApiKey realm=")
    assert good.status == 200
    assert good.json()["client_id"] == "web"
    assert "x-api-key" not in [name for name, _ in good.json()["headers"]]
    assert "authentication failed" in caplog.text  # the rejections were logged ...
    for secret in (WEB_KEY, WRONG_KEY):  # ... without the secret
        assert secret not in caplog.text
        for reply in (missing, wrong, good):
            assert secret.encode() not in reply.body
            assert secret not in str(dict(reply.headers))


async def test_bearer_route_accepts_only_its_token(edge: Edge) -> None:
    """A bearer route refuses no token, an API key and a wrong token; its token passes."""
    async with client(edge) as session:
        none = await fetch(session, "GET", "/v1/ops/x")
        key = await fetch(session, "GET", "/v1/ops/x", headers={"X-Api-Key": WEB_KEY})
        wrong = await fetch(session, "GET", "/v1/ops/x", headers={"Authorization": "Bearer nope"})
        assert edge.app.calls == 0
        good = await fetch(
            session, "GET", "/v1/ops/x", headers={"Authorization": f"Bearer {OPS_TOKEN}"}
        )
    assert [r.status for r in (none, key, wrong, good)] == [401, 401, 401, 200]
    assert none.headers["WWW-Authenticate"] == 'Bearer realm="shopmesh"'
    assert 'error="invalid_token"' in wrong.headers["WWW-Authenticate"]
    assert good.json()["client_id"] == "ops"
    assert "authorization" not in [name for name, _ in good.json()["headers"]]


@pytest.mark.parametrize(
    "path", ["//v1/private/x", "/v1/./private/x", "/v1/public/../private/x", "/v1/%70rivate/x"]
)
async def test_path_spelling_cannot_dodge_a_prefix_rule(edge: Edge, path: str) -> None:
    """Doubled slashes, dot segments and percent-encoding still hit the api_key rule."""
    reply = await exchange(edge.port, _head("GET", path, "Connection: close"))
    assert reply.status == 401
    assert edge.app.calls == 0


# --- rate limiting (H58) -----------------------------------------------------------------


async def test_burst_above_capacity_gets_429_with_retry_after() -> None:
    """After the burst, a client gets 429 RESOURCE_EXHAUSTED with Retry-After in whole
    seconds; another client keeps its own bucket (R-H58)."""
    config = replace(CONFIG, rate_per_s=0.5, rate_burst=3)
    async with serving(config) as edge, client(edge) as session:
        assert [(await fetch(session, "GET", "/v1/x")).status for _ in range(3)] == [200] * 3
        refused = await fetch(session, "GET", "/v1/x")
        other = await fetch(session, "GET", "/v1/private/x", headers={"X-Api-Key": WEB_KEY})
    assert (refused.status, refused.headers["Retry-After"]) == (429, "2")
    assert refused.json()["code"] == 8
    assert refused.json()["details"][0]["retryDelay"] == "2s"
    assert other.status == 200
    assert edge.app.calls == 4


async def test_steady_rate_within_refill_rate_gets_200() -> None:
    """Requests paced below the refill rate all pass even with a burst of one (R-H58)."""
    config = replace(CONFIG, rate_per_s=20.0, rate_burst=1)
    async with serving(config) as edge, client(edge) as session:
        statuses = []
        for _ in range(10):
            statuses.append((await fetch(session, "GET", "/v1/x")).status)
            await asyncio.sleep(1.1 / config.rate_per_s)
        burst = [(await fetch(session, "GET", "/v1/x")).status for _ in range(2)]
    assert statuses == [200] * 10
    assert burst == [200, 429]  # the same limiter does refuse a burst


# --- CORS --------------------------------------------------------------------------------


async def test_preflight_is_answered_at_the_edge(edge: Edge) -> None:
    """An allowed preflight gets 204 with the allowed methods, headers and max-age, even on
    an authenticated route, and never reaches the app."""
    headers = {
        "Origin": ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, x-api-key",
    }
    async with client(edge) as session:
        reply = await fetch(session, "OPTIONS", "/v1/private/x", headers=headers)
    assert reply.status == 204
    assert reply.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in reply.headers["Access-Control-Allow-Methods"]
    assert "x-api-key" in reply.headers["Access-Control-Allow-Headers"]
    assert reply.headers["Access-Control-Max-Age"] == str(CONFIG.cors_max_age_s)
    assert reply.headers["Vary"] == "origin"
    assert edge.app.calls == 0


@pytest.mark.parametrize(
    ("origin", "method", "asked_headers"),
    [
        ("https://evil.example", "GET", ""),
        (ORIGIN, "TRACE", ""),
        (ORIGIN, "GET", "x-internal-admin"),
    ],
)
async def test_preflight_for_unlisted_origin_method_or_header_gets_403(
    edge: Edge, origin: str, method: str, asked_headers: str
) -> None:
    """A preflight outside the allowed lists is 403 PERMISSION_DENIED, no allow-origin."""
    headers = {"Origin": origin, "Access-Control-Request-Method": method}
    if asked_headers:
        headers["Access-Control-Request-Headers"] = asked_headers
    async with client(edge) as session:
        reply = await fetch(session, "OPTIONS", "/v1/x", headers=headers)
    assert reply.status == 403
    assert reply.json()["code"] == 7
    assert "Access-Control-Allow-Origin" not in reply.headers
    assert edge.app.calls == 0


async def test_allowed_origin_can_read_answers_including_401(edge: Edge) -> None:
    """Responses to an allowed origin carry allow-origin and expose headers, a 401 too (so
    a browser app can see it); another origin gets none; all get Vary: Origin."""
    async with client(edge) as session:
        ok = await fetch(session, "GET", "/v1/x", headers={"Origin": ORIGIN})
        denied = await fetch(session, "GET", "/v1/private/x", headers={"Origin": ORIGIN})
        foreign = await fetch(session, "GET", "/v1/x", headers={"Origin": "https://evil.example"})
    for reply in (ok, denied):
        assert reply.headers["Access-Control-Allow-Origin"] == ORIGIN
        assert "retry-after" in reply.headers["Access-Control-Expose-Headers"]
    assert denied.status == 401
    assert "Access-Control-Allow-Origin" not in foreign.headers
    assert all(r.headers["Vary"] == "origin" for r in (ok, denied, foreign))


# --- response cache ----------------------------------------------------------------------


async def test_repeated_get_is_a_hit_with_age_and_max_age(edge: Edge) -> None:
    """The second identical GET is served from the cache (HIT, Age, max-age); another query
    is another entry."""
    async with client(edge) as session:
        first = await fetch(session, "GET", "/v1/cached/a?x=1")
        second = await fetch(session, "GET", "/v1/cached/a?x=1")
        other = await fetch(session, "GET", "/v1/cached/a?x=2")
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("MISS", "HIT")
    assert first.headers["Cache-Control"] == second.headers["Cache-Control"] == "max-age=30"
    assert int(second.headers["Age"]) >= 0
    assert second.body == first.body
    assert other.headers["X-Cache"] == "MISS"
    assert edge.app.calls == 2


async def test_no_cache_request_goes_to_the_app_and_refreshes_the_entry(edge: Edge) -> None:
    """Cache-Control: no-cache skips the stored answer and replaces it with the new one."""
    async with client(edge) as session:
        await fetch(session, "GET", "/v1/cached/b")
        fresh = await fetch(session, "GET", "/v1/cached/b", headers={"Cache-Control": "no-cache"})
        after = await fetch(session, "GET", "/v1/cached/b")
    assert fresh.headers["X-Cache"] == "MISS"
    assert fresh.json()["call"] == 2
    assert after.headers["X-Cache"] == "HIT"
    assert after.json()["call"] == 2
    assert edge.app.calls == 2


async def test_cached_answers_are_per_client_and_never_skip_auth(edge: Edge) -> None:
    """Two clients get separate entries; no key is still 401 on a cached route; an
    anonymous request carrying Authorization bypasses the cache."""
    path = "/v1/private/cached/c"
    async with client(edge) as session:
        web = await fetch(session, "GET", path, headers={"X-Api-Key": WEB_KEY})
        batch = await fetch(session, "GET", path, headers={"X-Api-Key": BATCH_KEY})
        web_again = await fetch(session, "GET", path, headers={"X-Api-Key": WEB_KEY})
        anonymous = await fetch(session, "GET", path)
        bearer = [
            await fetch(session, "GET", "/v1/cached/d", headers={"Authorization": "Bearer x"})
            for _ in range(2)
        ]
    assert [r.headers["X-Cache"] for r in (web, batch, web_again)] == ["MISS", "MISS", "HIT"]
    assert (batch.json()["client_id"], web_again.json()["client_id"]) == ("batch", "web")
    assert anonymous.status == 401
    assert all("X-Cache" not in r.headers for r in bearer)
    assert edge.app.calls == 4


@pytest.mark.parametrize("path", ["/v1/cached/stream", "/v1/cached/cookie"])
async def test_streams_and_set_cookie_responses_are_never_cached(edge: Edge, path: str) -> None:
    """NDJSON streams and responses setting a cookie reach the app every time."""
    async with client(edge) as session:
        replies = [await fetch(session, "GET", path) for _ in range(2)]
    assert [r.headers["X-Cache"] for r in replies] == ["MISS", "MISS"]
    assert all(r.status == 200 and r.body for r in replies)
    assert edge.app.calls == 2


async def test_routes_without_ttl_are_not_cached(edge: Edge) -> None:
    """Outside the configured prefixes nothing is stored and no X-Cache header is added."""
    async with client(edge) as session:
        replies = [await fetch(session, "GET", "/v1/x") for _ in range(2)]
    assert all("X-Cache" not in r.headers for r in replies)
    assert edge.app.calls == 2


# --- drain (F49) -------------------------------------------------------------------------


async def test_drain_flips_health_then_refuses_new_requests_while_in_flight_complete(
    edge: Edge, background: Background
) -> None:
    """start_drain: /healthz 503 at once; requests served during the grace, then 503 with
    Connection: close; the in-flight request completes; wait_idle reports it (R-F49)."""
    async with client(edge) as session:
        hold = background(fetch(session, "GET", "/v1/x/hold"))
        await asyncio.wait_for(edge.app.held.get(), 5)
        assert not await edge.drain.wait_idle(0.05)
        edge.drain.start_drain()
        health = await fetch(session, "GET", "/healthz")
        during_grace = await fetch(session, "GET", "/v1/x")
        await asyncio.sleep(CONFIG.drain_grace_s)
        after_grace = await fetch(session, "GET", "/v1/x")
        edge.app.release.set()
        held = await hold
    assert (health.status, health.json()) == (503, {"status": "NOT_SERVING"})
    assert (during_grace.status, during_grace.headers["Connection"]) == (200, "close")
    assert (after_grace.status, after_grace.headers["Connection"]) == (503, "close")
    assert after_grace.json()["code"] == 14
    assert held.status == 200
    assert await edge.drain.wait_idle(2)
    assert edge.app.calls == 2


async def test_sigterm_drains_then_exits_closing_idle_keep_alives(
    background: Background,
) -> None:
    """DrainingServer on SIGTERM: health 503, the in-flight request completes, an idle
    keep-alive connection is closed and the server exits well within its graces."""
    config = replace(CONFIG, drain_grace_s=0.2, keep_alive_s=30)
    async with serving(config) as edge, client(edge) as session:
        reader, writer = await asyncio.open_connection("127.0.0.1", edge.port)
        writer.write(_head("GET", "/healthz"))
        async with asyncio.timeout(5):
            assert b"200 OK" in await reader.readuntil(b'"SERVING"}')
        hold = background(fetch(session, "GET", "/v1/x/hold"))
        await asyncio.wait_for(edge.app.held.get(), 5)
        started = time.monotonic()
        edge.server.handle_exit(signal.SIGTERM, None)
        for _ in range(100):  # uvicorn acts on the signal at its next 0.1 s tick
            health = await fetch(session, "GET", "/healthz")
            if health.status == 503:
                break
            await asyncio.sleep(0.02)
        assert health.status == 503
        edge.app.release.set()
        assert (await hold).status == 200
        await asyncio.wait_for(asyncio.shield(edge.task), config.drain_grace_s + 3)
        async with asyncio.timeout(2):
            assert await reader.read() == b""  # the idle keep-alive was closed, not left open
        writer.close()
    assert time.monotonic() - started < config.drain_grace_s + 3
