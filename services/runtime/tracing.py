"""OpenTelemetry, switched on by the standard OTEL_* variables (see config.TracingConfig).

Off by default: no provider, no interceptors, no cost. With OTEL_TRACES_EXPORTER=console
spans go to stderr; with otlp to OTEL_EXPORTER_OTLP_ENDPOINT (the ADOT sidecar on AWS).
W3C traceparent is propagated by the gRPC instrumentation on both sides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.runtime.config import TracingConfig


@dataclass
class Tracing:
    """Interceptors to install, and how to flush at shutdown."""

    server_interceptors: list[Any]
    client_interceptors: list[Any]
    provider: Any = None

    def shutdown(self) -> None:
        if self.provider is not None:
            self.provider.shutdown()


def setup_tracing(config: TracingConfig) -> Tracing:
    if config.exporter == "none":
        return Tracing([], [])
    # Imported only when asked for: the SDK costs start-up time.
    from opentelemetry import trace
    from opentelemetry.instrumentation.grpc import (
        aio_client_interceptors,
        aio_server_interceptor,
    )
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        ConsoleSpanExporter,
        SpanExporter,
    )

    exporter: SpanExporter
    if config.exporter == "console":
        exporter = ConsoleSpanExporter()
    else:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=config.otlp_endpoint or None)
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: config.service_name}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    # The instrumentation package is untyped.
    server = aio_server_interceptor(tracer_provider=provider)  # type: ignore[no-untyped-call]
    clients = aio_client_interceptors(tracer_provider=provider)  # type: ignore[no-untyped-call]
    return Tracing(
        server_interceptors=[server], client_interceptors=list(clients), provider=provider
    )
