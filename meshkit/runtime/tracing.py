"""OpenTelemetry, switched on by the standard OTEL_* variables (``tracing_from_env``).

Off by default: no provider, no interceptors, no cost. With OTEL_TRACES_EXPORTER=console
spans go to stderr; with otlp to OTEL_EXPORTER_OTLP_ENDPOINT (the ADOT sidecar on AWS).
W3C traceparent is propagated by the gRPC instrumentation on both sides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from meshkit.env import ConfigError


@dataclass(frozen=True)
class TracingConfig:
    """OpenTelemetry export, from the standard OTEL_* variables."""

    exporter: str = "none"  # "none" | "console" | "otlp"
    service_name: str = ""
    otlp_endpoint: str = ""
    sample_ratio: float = 1.0
    """Fraction of new traces sampled (parent-based: a sampled caller is always followed);
    OTEL_TRACES_SAMPLER=parentbased_traceidratio with OTEL_TRACES_SAMPLER_ARG."""


def tracing_from_env(env: Mapping[str, str], service_name: str) -> TracingConfig:
    """Reads the standard OpenTelemetry variables (tracing is off unless asked for)."""
    if env.get("OTEL_SDK_DISABLED", "false").lower() == "true":
        return TracingConfig(service_name=service_name)
    exporter = env.get("OTEL_TRACES_EXPORTER", "none").strip().lower()
    if exporter not in {"none", "console", "otlp"}:
        raise ConfigError(f"OTEL_TRACES_EXPORTER must be none, console or otlp, got {exporter!r}")
    sampler = env.get("OTEL_TRACES_SAMPLER", "parentbased_always_on")
    ratios = {"parentbased_always_on": "1", "parentbased_always_off": "0"}
    if sampler not in {*ratios, "parentbased_traceidratio"}:
        raise ConfigError(
            "OTEL_TRACES_SAMPLER must be parentbased_always_on, parentbased_always_off or "
            f"parentbased_traceidratio, got {sampler!r}"
        )
    raw_ratio = ratios.get(sampler) or env.get("OTEL_TRACES_SAMPLER_ARG", "1")
    try:
        ratio = float(raw_ratio)
    except ValueError:
        ratio = -1.0
    if not 0.0 <= ratio <= 1.0:
        raise ConfigError(f"OTEL_TRACES_SAMPLER_ARG must be in 0..1, got {raw_ratio!r}")
    return TracingConfig(
        exporter=exporter,
        service_name=env.get("OTEL_SERVICE_NAME", service_name),
        otlp_endpoint=env.get("OTEL_EXPORTER_OTLP_ENDPOINT", ""),
        sample_ratio=ratio,
    )


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
    """Tracing as configured: nothing at all for "none", else an SDK provider."""
    if config.exporter == "none":
        return Tracing([], [])
    # Imported only when asked for: the SDK costs start-up time.
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SpanExporter

    exporter: SpanExporter
    if config.exporter == "console":
        exporter = ConsoleSpanExporter()
    else:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=config.otlp_endpoint or None)
    return tracing_to(exporter, config.service_name, sample_ratio=config.sample_ratio)


def tracing_to(
    exporter: Any, service_name: str, *, batch: bool = True, sample_ratio: float = 1.0
) -> Tracing:
    """Server and client interceptors exporting spans of ``service_name`` to ``exporter``.

    Each Tracing has its own provider (not the global one), so several services in one
    process (tests, benchmarks) keep their spans apart.
    """
    from opentelemetry.instrumentation.grpc import (
        aio_client_interceptors,
        aio_server_interceptor,
    )
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBasedTraceIdRatio

    provider = TracerProvider(
        resource=Resource.create({SERVICE_NAME: service_name}),
        sampler=ParentBasedTraceIdRatio(sample_ratio),
    )
    processor = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
    provider.add_span_processor(processor)
    # The instrumentation package is untyped.
    server = aio_server_interceptor(tracer_provider=provider)  # type: ignore[no-untyped-call]
    clients = aio_client_interceptors(tracer_provider=provider)  # type: ignore[no-untyped-call]
    return Tracing(
        server_interceptors=[server], client_interceptors=list(clients), provider=provider
    )
