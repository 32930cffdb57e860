"""A server span per HTTP request that continues the client's W3C traceparent.

The span is current while the transcoder calls upstream, so the OpenTelemetry gRPC
client interceptors on the upstream channels carry the same trace into the mesh: one
checkout is one trace from the edge to the last service.
"""

from __future__ import annotations

from typing import Any

from meshkit.asgi import Receive, Send

_TRACE_HEADERS = (b"traceparent", b"tracestate")


class HttpTracing:
    def __init__(self, app: Any, tracer_provider: Any) -> None:
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        self._app = app
        self._tracer = tracer_provider.get_tracer("shopmesh.gateway")
        self._propagator = TraceContextTextMapPropagator()

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        from opentelemetry.trace import SpanKind

        carrier = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope["headers"]
            if name.lower() in _TRACE_HEADERS
        }
        context = self._propagator.extract(carrier)
        name = f"{scope['method']} {scope['path']}"
        with self._tracer.start_as_current_span(
            name, context=context, kind=SpanKind.SERVER
        ) as span:
            span.set_attribute("http.request.method", scope["method"])
            span.set_attribute("url.path", scope["path"])

            async def traced_send(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    span.set_attribute("http.response.status_code", message["status"])
                await send(message)

            await self._app(scope, receive, traced_send)
