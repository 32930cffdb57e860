"""The server-side boundary every RPC passes through.

One interceptor does what every handler would otherwise repeat: it sets up the call
scope (deadline, request and operation ids) for outbound calls, refuses work whose
deadline has already passed, applies a default deadline to unary calls whose caller
sent none, maps errors through ``error_mapping`` and writes one JSON access-log line.

It also parses the request messages itself: grpcio answers a request that is not the
method's message with UNKNOWN and the parser's exception text, outside any handler; here
it is INTERNAL (what the gRPC spec's library table says for an unparsable request, and
what the Go services answer) with a reason and no exception on the wire (R-E39).
"""

from __future__ import annotations

import asyncio
import inspect
import math
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from google.rpc import status_pb2

from meshkit.errors import DeadlineExceeded, DomainError, Internal
from meshkit.runtime import error_mapping
from meshkit.runtime.counters import CallCounters, CountingStream
from meshkit.runtime.deadlines import CallScope, bind_scope, unbind_scope
from meshkit.runtime.logs import AccessLog

UNPARSED = object()
"""What the boundary's deserializer hands on for bytes that are not the request message."""
REQUEST_ID_KEY = "x-request-id"
OPERATION_ID_KEY = "x-operation-id"

Behavior = Callable[..., Any]


class ServerBoundary(grpc.aio.ServerInterceptor):
    """Deadlines, error mapping and access logs for every method of a server."""

    def __init__(
        self,
        *,
        default_deadline_s: float,
        access_log: AccessLog | None = None,
        counters: CallCounters | None = None,
    ) -> None:
        self._default_deadline_s = default_deadline_s
        self._access_log = access_log
        self._counters = counters
        self._wrapped: dict[str, grpc.RpcMethodHandler[Any, Any]] = {}

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        method = handler_call_details.method
        cached = self._wrapped.get(method)
        if cached is not None:
            return cached
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler  # unknown method: grpc answers UNIMPLEMENTED
        wrapped = self._wrap(method, handler)
        self._wrapped[method] = wrapped
        return wrapped

    def _wrap(
        self, method: str, handler: grpc.RpcMethodHandler[Any, Any]
    ) -> grpc.RpcMethodHandler[Any, Any]:
        kinds: tuple[tuple[str, Callable[..., grpc.RpcMethodHandler[Any, Any]]], ...] = (
            ("unary_unary", grpc.unary_unary_rpc_method_handler),
            ("unary_stream", grpc.unary_stream_rpc_method_handler),
            ("stream_unary", grpc.stream_unary_rpc_method_handler),
            ("stream_stream", grpc.stream_stream_rpc_method_handler),
        )
        for attribute, factory in kinds:
            behavior = getattr(handler, attribute)
            if behavior is None:
                continue
            streams_out = attribute.endswith("_stream")
            streams_in = attribute.startswith("stream_")
            if streams_out and inspect.isasyncgenfunction(behavior):
                wrapped: Behavior = self._wrap_stream(method, behavior, streams_in=streams_in)
            else:
                wrapped = self._wrap_unary(
                    method, behavior, bounded=not streams_out, streams_in=streams_in
                )
            return factory(
                wrapped,
                request_deserializer=_tolerant(handler.request_deserializer),
                response_serializer=handler.response_serializer,
            )
        raise TypeError(f"{method}: handler has no behavior")

    def _wrap_unary(
        self, method: str, behavior: Behavior, *, bounded: bool, streams_in: bool
    ) -> Behavior:
        async def unary(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            started = time.perf_counter()
            scope, remaining = self._scope(context, bounded=bounded)
            code = grpc.StatusCode.OK
            if streams_in:
                request = requests = CountingStream(_Parsed(request, method))
            token = bind_scope(scope)
            try:
                if request is UNPARSED:
                    raise _unparsable(method)
                if remaining is None:
                    return await behavior(request, context)
                async with asyncio.timeout(remaining):
                    return await behavior(request, context)
            except BaseException as exc:
                code, status = _settle(exc, method, context)
                if status is not None:
                    await context.abort(code, status.message, _trailers(status))
                raise
            finally:
                unbind_scope(token)
                self._log(method, code, started, scope, context)
                if self._counters is not None:
                    received = requests.count if streams_in else 1
                    sent = 1 if code == grpc.StatusCode.OK else 0
                    self._counters.record(method, scope.operation_id, received, sent)

        return unary

    def _wrap_stream(self, method: str, behavior: Behavior, *, streams_in: bool) -> Behavior:
        async def stream(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            started = time.perf_counter()
            scope, _ = self._scope(context, bounded=False)
            code = grpc.StatusCode.OK
            if streams_in:
                request = requests = CountingStream(_Parsed(request, method))
            sent = 0
            token = bind_scope(scope)
            try:
                if request is UNPARSED:
                    raise _unparsable(method)
                async for response in behavior(request, context):
                    sent += 1
                    yield response
            except BaseException as exc:
                code, status = _settle(exc, method, context)
                if status is not None:
                    await context.abort(code, status.message, _trailers(status))
                raise
            finally:
                unbind_scope(token)
                self._log(method, code, started, scope, context)
                if self._counters is not None:
                    received = requests.count if streams_in else 1
                    self._counters.record(method, scope.operation_id, received, sent)

        return stream

    def _scope(
        self, context: grpc.aio.ServicerContext[Any, Any], *, bounded: bool
    ) -> tuple[CallScope, float | None]:
        """The call's scope, and the timeout we must enforce ourselves (if any)."""
        request_id = operation_id = ""
        for key, value in context.invocation_metadata() or ():
            if key == REQUEST_ID_KEY and isinstance(value, str):
                request_id = value[:128]
            elif key == OPERATION_ID_KEY and isinstance(value, str):
                operation_id = value[:128]
        # Not a secret, just unique enough to correlate log lines; getrandbits avoids the
        # system call uuid4 makes on every request.
        request_id = request_id or f"{random.getrandbits(128):032x}"
        # Typed as float, but grpc.aio returns None when the caller sent no deadline.
        remaining: float | None = context.time_remaining()
        now = time.monotonic()
        enforce: float | None = None
        if remaining is not None:
            deadline = now + remaining  # grpc itself cancels the call at this deadline
        elif bounded:
            deadline = now + self._default_deadline_s
            enforce = self._default_deadline_s
        else:
            deadline = math.inf  # a long-lived stream: outbound calls get the default
        if remaining is not None and remaining <= 0:
            enforce = 0.0  # already expired: asyncio.timeout(0) fails before any work
        return CallScope(deadline, request_id, operation_id), enforce

    def _log(
        self,
        method: str,
        code: grpc.StatusCode,
        started: float,
        scope: CallScope,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> None:
        if self._access_log is None:
            return
        self._access_log.write(
            method,
            code.name,
            (time.perf_counter() - started) * 1000,
            context.peer(),
            scope.request_id,
            scope.operation_id,
        )


def _tolerant(deserializer: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    """``deserializer``, handing on UNPARSED instead of raising for bytes that are not
    the message (so the boundary, not grpcio, answers for them)."""
    if deserializer is None:
        return None

    def parse(data: bytes) -> Any:
        try:
            return deserializer(data)
        except Exception:  # DecodeError, invalid UTF-8 in a string field, ...
            return UNPARSED

    return parse


class _Parsed:
    """A request stream that raises at the first message that did not parse."""

    def __init__(self, inner: Any, method: str) -> None:
        self._inner = inner
        self._method = method

    def __aiter__(self) -> _Parsed:
        return self

    async def __anext__(self) -> Any:
        item = await self._inner.__anext__()
        if item is UNPARSED:
            raise _unparsable(self._method)
        return item


def _unparsable(method: str) -> Internal:
    return Internal(
        message=f"a request message of {method} could not be parsed",
        reason="UNPARSABLE_REQUEST",
    )


def _status_for(exc: BaseException, method: str) -> status_pb2.Status | None:
    """The status an exception becomes, or None when it must pass through untouched.

    Aborts and cancellations pass through; a domain error becomes its status; our own
    default-deadline timeout becomes DEADLINE_EXCEEDED; a downstream failure no adapter
    translated keeps its meaning; anything else becomes INTERNAL with an opaque id
    (E39: never UNKNOWN, never a traceback on the wire).
    """
    if not isinstance(exc, Exception) or isinstance(exc, grpc.aio.AbortError):
        return None
    if isinstance(exc, DomainError):
        return error_mapping.status_from_error(exc)
    if isinstance(exc, TimeoutError):
        return error_mapping.status_from_error(
            DeadlineExceeded(message="deadline exceeded", reason="DEADLINE_EXCEEDED")
        )
    if isinstance(exc, grpc.aio.AioRpcError):
        return error_mapping.status_from_error(error_mapping.error_from_rpc(exc))
    return error_mapping.internal_status(exc, method)


def _settle(
    exc: BaseException, method: str, context: grpc.aio.ServicerContext[Any, Any]
) -> tuple[grpc.StatusCode, status_pb2.Status | None]:
    """The code the caller will see, and the status to abort with (None: pass through)."""
    status = _status_for(exc, method)
    if status is not None:
        return _CODES[status.code], status
    if isinstance(exc, grpc.aio.AbortError):
        return context.code(), None
    return grpc.StatusCode.CANCELLED, None


_trailers = error_mapping.trailing_metadata_for
_CODES: dict[int, grpc.StatusCode] = {c.value[0]: c for c in grpc.StatusCode}
