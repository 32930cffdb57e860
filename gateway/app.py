"""The transcoding ASGI app: HTTP/JSON request → route → gRPC call → JSON response.

Routes come from the descriptors' google.api.http rules (``gateway.routes``), so an
annotated RPC whose visibility the edge serves is routed by regenerating the
descriptors, with no code here; other RPCs answer as paths nobody annotated. Shapes:
unary → JSON; server streaming → NDJSON (``{"result": ...}`` per message, a final
``{"error": ...}`` line if the stream fails after it started); client and bidi
streaming read an NDJSON request body, one message per line.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import grpc
from google.protobuf import descriptor_pool, message

from gateway import responses
from gateway.descriptors import message_class
from gateway.metadata import deadline_s, request_metadata, response_headers
from gateway.problems import BadRequest, GatewayProblem, MethodNotAllowed, NotFound
from gateway.request_body import ClientGone, ndjson_lines, read_body
from gateway.routes import Match, Route, RouteTable, request_path
from gateway.transcode import build_request, render_response
from gateway.upstream import Upstreams
from gateway.upstream_errors import retry_after, status_json
from meshkit.asgi import Receive, Send
from meshkit.runtime.error_mapping import status_of_rpc

DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class TranscoderConfig:
    """Deadlines per call shape, and the largest JSON response passed on."""

    default_deadline_s: float = 10.0
    max_deadline_s: float = 30.0
    stream_default_deadline_s: float = 300.0
    stream_max_deadline_s: float = 3600.0
    first_message_wait_s: float = 1.0
    """How long a server stream's first message may decide the HTTP status."""
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES


@dataclass(frozen=True)
class _Call:
    """One matched request, ready to be sent upstream."""

    route: Route
    bindings: dict[str, str]
    query: list[tuple[str, str]]
    metadata: tuple[tuple[str, str], ...]
    timeout_s: float


class Transcoder:
    """The ASGI app. Edge concerns (limits, auth, CORS, ...) wrap it from outside."""

    def __init__(
        self,
        table: RouteTable,
        pool: descriptor_pool.DescriptorPool,
        upstreams: Upstreams,
        config: TranscoderConfig = TranscoderConfig(),
        *,
        forward_trace_headers: bool = True,
        closing: asyncio.Event | None = None,
    ) -> None:
        self._table = table
        self._pool = pool
        self._upstreams = upstreams
        self._config = config
        self._forward_trace = forward_trace_headers
        self._closing = closing

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        try:
            call = self._match(scope)
            await self._dispatch(call, receive, send)
        except GatewayProblem as problem:
            await responses.send_problem(send, problem)
        except grpc.aio.AioRpcError as error:
            await self._send_rpc_error(send, error)
        except ClientGone:
            return
        except Exception as exc:  # the one place a bug becomes an opaque 500
            await responses.send_internal_error(send, exc)

    def _match(self, scope: dict[str, Any]) -> _Call:
        result = self._table.match(scope["method"], request_path(scope))
        if not isinstance(result, Match):
            raise _no_route(result)
        try:
            query_text = scope.get("query_string", b"").decode("utf-8")
            query = parse_qsl(query_text, keep_blank_values=True, errors="strict")
        except (UnicodeDecodeError, ValueError):
            raise BadRequest("query string is not valid UTF-8 percent-encoding") from None
        method = result.route.method
        streams = method.client_streaming or method.server_streaming
        config = self._config
        timeout = deadline_s(
            scope["headers"],
            config.stream_default_deadline_s if streams else config.default_deadline_s,
            config.stream_max_deadline_s if streams else config.max_deadline_s,
        )
        client = scope.get("client")
        metadata = request_metadata(
            scope["headers"], client[0] if client else None, forward_trace=self._forward_trace
        )
        return _Call(result.route, dict(result.bindings), query, metadata, timeout)

    async def _dispatch(self, call: _Call, receive: Receive, send: Send) -> None:
        method = call.route.method
        invoke = self._upstreams.callable_for(method)
        request_class = message_class(self._pool, method.input_type.full_name)
        if not method.client_streaming:
            body = await read_body(receive)
            request = self._request(request_class, call, body)
            if method.server_streaming:
                await self._server_stream(invoke(request, **_options(call)), call, receive, send)
            else:
                await self._unary(invoke(request, **_options(call)), call, send)
            return
        feed = _RequestFeed(self, request_class, call, receive)
        try:
            if method.server_streaming:
                rpc = invoke(feed.messages(), **_options(call))
                await self._server_stream(rpc, call, None, send, feed)
            else:
                await self._unary(invoke(feed.messages(), **_options(call)), call, send)
        except (grpc.aio.AioRpcError, asyncio.CancelledError):
            # A bad line aborts the upstream call (grpc.aio reports that as a cancelled
            # call); the client must hear about the line instead.
            if feed.problem is not None and not _being_cancelled():
                raise feed.problem from None
            raise

    def _request(
        self, request_class: type[message.Message], call: _Call, body: bytes
    ) -> message.Message:
        return build_request(
            request_class,
            self._pool,
            body_field=call.route.body,
            body=body,
            bindings=call.bindings,
            query=call.query,
        )

    async def _unary(self, rpc: Any, call: _Call, send: Send) -> None:
        reply = await rpc
        document = render_response(reply, self._pool, call.route.response_body)
        body = responses.encode(document)
        if len(body) > self._config.max_response_bytes:
            await responses.send_status_json(
                send, 13, "upstream response exceeds the gateway's size limit", http_status=502
            )
            return
        headers = response_headers(
            [*(await rpc.initial_metadata() or ()), *(await rpc.trailing_metadata() or ())]
        )
        await responses.send_body(send, 200, body, headers=headers)

    async def _server_stream(
        self,
        rpc: Any,
        call: _Call,
        receive: Receive | None,
        send: Send,
        feed: _RequestFeed | None = None,
    ) -> None:
        """NDJSON. The status is decided by the first message, or the error before it, if
        either comes within ``first_message_wait_s``; a stream that is quiet longer (a
        live watch) gets its 200 then, so clients and proxies are not left without
        headers, and anything that follows, an error included, arrives as lines."""
        replies = rpc.__aiter__()
        first_reply = asyncio.ensure_future(_next(replies))
        done, _ = await asyncio.wait({first_reply}, timeout=self._config.first_message_wait_s)
        if done:
            first_reply.result()  # an early error raises here, before any header is sent
        ending = _StreamEnding()
        watcher = asyncio.create_task(ending.watch(rpc, receive, self._closing))
        try:
            # Upstream headers only once a message is in: awaiting initial_metadata()
            # while a read is pending and no message has come stalls that read for good
            # (grpc.aio 1.85, seen with a quiet WatchOrders).
            metadata = await rpc.initial_metadata() if done else ()
            await responses.start_stream(send, response_headers(metadata or ()))
            try:
                reply = await first_reply
                while reply is not _END:
                    await responses.send_line(send, {"result": self._render(reply, call)})
                    reply = await _next(replies)
            except (grpc.aio.AioRpcError, asyncio.CancelledError) as error:
                if ending.reason == "client gone":
                    return  # nobody is left to read a last line
                if ending.reason == "closing":
                    await responses.send_line(send, {"error": _CLOSING_LINE})
                else:
                    bad_line = feed is not None and feed.problem is not None
                    if isinstance(error, asyncio.CancelledError) and (
                        _being_cancelled() or not bad_line
                    ):
                        raise
                    # Headers are gone: the failure becomes the stream's visible last line.
                    await responses.send_line(send, {"error": self._error_line(error, feed)})
            await responses.end_stream(send)
        finally:
            first_reply.cancel()
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    def _error_line(self, error: BaseException, feed: _RequestFeed | None) -> Any:
        if feed is not None and feed.problem is not None:
            return {"code": feed.problem.grpc_code, "message": feed.problem.message, "details": []}
        assert isinstance(error, grpc.aio.AioRpcError)
        return status_json(status_of_rpc(error), self._pool)

    def _render(self, reply: message.Message, call: _Call) -> Any:
        return render_response(reply, self._pool, call.route.response_body)

    async def _send_rpc_error(self, send: Send, error: grpc.aio.AioRpcError) -> None:
        status = status_of_rpc(error)
        headers: list[tuple[bytes, bytes]] = []
        delay = retry_after(status)
        if delay is not None:
            headers.append((b"retry-after", delay.encode()))
        rendered = status_json(status, self._pool)
        await responses.send_status_json(
            send, rendered["code"], rendered["message"], rendered["details"], headers
        )

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            event = await receive()
            if event["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif event["type"] == "lifespan.shutdown":
                await self._upstreams.close(grace_s=1.0)
                await send({"type": "lifespan.shutdown.complete"})
                return


class _RequestFeed:
    """An NDJSON request body as a stream of request messages for the upstream call.

    gRPC consumes the iterator in its own task, so a bad line cannot raise to us: it is
    kept here and the call aborted; the handler then reports the line, not the abort.
    """

    def __init__(
        self,
        transcoder: Transcoder,
        request_class: type[message.Message],
        call: _Call,
        receive: Receive,
    ) -> None:
        self._transcoder = transcoder
        self._request_class = request_class
        self._call = call
        self._receive = receive
        self.problem: GatewayProblem | None = None

    async def messages(self) -> AsyncIterator[message.Message]:
        try:
            async for line in ndjson_lines(self._receive):
                yield self._transcoder._request(self._request_class, self._call, line)
        except GatewayProblem as problem:
            self.problem = problem
            raise


_END = object()
"""What ``_next`` returns once a stream is over."""


async def _next(replies: Any) -> Any:
    """The next reply, or ``_END`` (StopAsyncIteration must not escape into a Task)."""
    try:
        return await replies.__anext__()
    except StopAsyncIteration:
        return _END


def _being_cancelled() -> bool:
    """True when this task itself is being cancelled (not just a call it awaited)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _options(call: _Call) -> dict[str, Any]:
    return {"timeout": call.timeout_s, "metadata": call.metadata}


def _no_route(result: Any) -> GatewayProblem:
    allowed: Sequence[str] = getattr(result, "allowed", ())
    if allowed:
        return MethodNotAllowed(
            "method not allowed for this path", headers=[("Allow", ", ".join(allowed))]
        )
    reason = getattr(result, "reason", "")
    if reason:
        return BadRequest(f"invalid path: {reason}")
    return NotFound("no route for this path")


class _StreamEnding:
    """Why a server stream is being ended early, if it is: the HTTP client went away, or
    the gateway is shutting down. Either way the upstream call is cancelled (R-E40)."""

    def __init__(self) -> None:
        self.reason: str | None = None

    async def watch(self, rpc: Any, receive: Receive | None, closing: asyncio.Event | None) -> None:
        waits = []
        if receive is not None:
            waits.append(asyncio.ensure_future(self._disconnect(receive)))
        if closing is not None:
            waits.append(asyncio.ensure_future(self._closing(closing)))
        if not waits:
            return
        try:
            done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            self.reason = next(iter(done)).result()
            rpc.cancel()
        finally:
            for wait in waits:
                wait.cancel()

    @staticmethod
    async def _disconnect(receive: Receive) -> str:
        while (await receive())["type"] != "http.disconnect":
            pass
        return "client gone"

    @staticmethod
    async def _closing(closing: asyncio.Event) -> str:
        await closing.wait()
        return "closing"


_CLOSING_LINE = {
    "code": 14,
    "message": "the gateway is shutting down; reconnect to resume the stream",
    "details": [],
}
