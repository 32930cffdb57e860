"""OpenTelemetry: one checkout is one trace across every service it touches."""

from __future__ import annotations

from pathlib import Path

import grpc
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from shopmesh.orders.v1 import orders_pb2, orders_pb2_grpc

from meshkit.runtime.tracing import Tracing, TracingConfig, setup_tracing, tracing_to
from tests.integration.mesh_fixture import running_mesh


async def test_checkout_is_one_trace_across_all_services(tmp_path: Path) -> None:
    """PlaceOrder yields server spans in orders and its four dependencies, all in the
    trace the client started (W3C traceparent carried on every hop)."""
    exporter = InMemorySpanExporter()

    def traced(name: str) -> Tracing:
        return tracing_to(exporter, name, batch=False)

    async with running_mesh(tmp_path, tracing=traced) as mesh:
        client_tracing = traced("client")
        async with grpc.aio.insecure_channel(
            mesh.address("orders"), interceptors=client_tracing.client_interceptors
        ) as channel:
            await orders_pb2_grpc.OrdersServiceStub(channel).PlaceOrder(
                orders_pb2.PlaceOrderRequest(
                    idempotency_key="trace-1",
                    customer_id="c",
                    items=[orders_pb2.OrderItem(sku="SKU-00003", quantity=1)],
                    region="DE",
                    payment_token="tok_visa",
                ),
                timeout=10,
            )
    spans = exporter.get_finished_spans()
    client_span = next(
        s
        for s in spans
        if s.name.endswith("OrdersService/PlaceOrder")
        and s.resource.attributes["service.name"] == "client"
    )
    trace_id = client_span.context.trace_id
    in_trace = {
        (str(s.resource.attributes["service.name"]), s.name)
        for s in spans
        if s.context.trace_id == trace_id
    }
    services = {service for service, _ in in_trace}
    assert services >= {"client", "orders", "catalog", "pricing", "inventory", "payments"}
    assert ("pricing", "/shopmesh.pricing.v1.PricingService/QuoteStream") in in_trace
    assert ("inventory", "/shopmesh.inventory.v1.InventoryService/ReserveStream") in in_trace


def test_tracing_is_off_unless_asked_for() -> None:
    """With no OTEL_TRACES_EXPORTER the runtime installs no interceptors at all."""
    tracing = setup_tracing(TracingConfig())
    assert tracing.server_interceptors == []
    assert tracing.client_interceptors == []
