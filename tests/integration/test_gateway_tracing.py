"""One request through the edge is one trace: HTTP span → gateway → every service."""

from __future__ import annotations

from pathlib import Path

import aiohttp
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gateway.config import GatewayConfig
from gateway.edge.config import EdgeConfig
from gateway.server import build_gateway
from meshkit.runtime.tracing import Tracing, tracing_to
from tests.integration.gateway_fixture import serving, upstream_targets
from tests.integration.mesh_fixture import running_mesh

CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


async def test_checkout_through_the_gateway_continues_the_clients_trace(tmp_path: Path) -> None:
    """The client's traceparent is continued by the gateway's HTTP span and carried into
    orders and the four services it calls (W3C trace context end to end)."""
    exporter = InMemorySpanExporter()

    def traced(name: str) -> Tracing:
        return tracing_to(exporter, name, batch=False)

    async with running_mesh(tmp_path, tracing=traced) as mesh:
        config = GatewayConfig(upstreams=upstream_targets(mesh), edge=EdgeConfig(rate_per_s=0))
        gateway = build_gateway(config, traced("gateway"))
        order = {
            "idempotencyKey": "trace-http-1",
            "customerId": "c",
            "items": [{"sku": "SKU-00003", "quantity": 1}],
            "region": "DE",
            "paymentToken": "tok_visa",
        }
        headers = {"traceparent": f"00-{CLIENT_TRACE}-00f067aa0ba902b7-01"}
        async with (
            serving(gateway.app) as url,
            aiohttp.ClientSession() as session,
            session.post(f"{url}/v1/orders", json=order, headers=headers) as reply,
        ):
            assert reply.status == 200
    services = {
        str(span.resource.attributes["service.name"])
        for span in exporter.get_finished_spans()
        if f"{span.context.trace_id:032x}" == CLIENT_TRACE
    }
    assert services == {"gateway", "orders", "catalog", "pricing", "inventory", "payments"}
