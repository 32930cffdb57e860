"""Tracing for the runtime+tracing arm: real SDK spans, exported to nowhere.

It uses the runtime's own ``tracing_to`` (the provider, resource, batch processor and
gRPC instrumentation that ``setup_tracing`` uses) with a discarding exporter, so the arm
pays for creating, ending and batching every span but not for a network or a console.
Imported only by that arm, so the other arms never load OpenTelemetry, as in production.
"""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from meshkit.runtime.tracing import Tracing, tracing_to


class DiscardingExporter(SpanExporter):
    """Counts the spans it is handed, so the report can show they were really made."""

    def __init__(self) -> None:
        self.exported = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.exported += len(spans)
        return SpanExportResult.SUCCESS


def discarding_tracing(service_name: str) -> tuple[Tracing, DiscardingExporter]:
    """What ``setup_tracing`` returns for an exporter, with a discarding exporter."""
    exporter = DiscardingExporter()
    return tracing_to(exporter, service_name), exporter
