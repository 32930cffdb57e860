"""A quiet WatchOrders stream carries heartbeats, over gRPC and through the gateway as
NDJSON lines, so proxies that cut streams without messages never cut it; events still
arrive in order between them."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path

import grpc
from shopmesh.orders.v1 import orders_pb2, orders_pb2_grpc

from tests.conftest import TEST_RUNTIME
from tests.integration.gateway_fixture import ADMIN_HEADERS, running_gateway
from tests.integration.mesh_fixture import running_mesh

HEARTBEAT_S = 0.2
QUIET = replace(TEST_RUNTIME, stream_heartbeat_s=HEARTBEAT_S)


def _order(key: str) -> orders_pb2.PlaceOrderRequest:
    return orders_pb2.PlaceOrderRequest(
        idempotency_key=key,
        customer_id="c-1",
        region="DE",
        payment_token="tok_visa",
        items=[orders_pb2.OrderItem(sku="SKU-00001", quantity=1)],
    )


async def test_watch_orders_sends_heartbeats_while_quiet_and_events_in_between(
    tmp_path: Path,
) -> None:
    """After the stored events, a quiet stream gets heartbeat-only messages; an order
    placed meanwhile still arrives as its events, in sequence."""
    async with (
        running_mesh(tmp_path, runtime=QUIET) as mesh,
        grpc.aio.insecure_channel(mesh.address("orders")) as channel,
    ):
        stub = orders_pb2_grpc.OrdersServiceStub(channel)
        await stub.PlaceOrder(_order("hb-1"), timeout=10)
        call = stub.WatchOrders(orders_pb2.WatchOrdersRequest(), timeout=10)
        replies = [await asyncio.wait_for(call.read(), 5) for _ in range(8)]
        await stub.PlaceOrder(_order("hb-2"), timeout=10)
        later = [await asyncio.wait_for(call.read(), 5) for _ in range(8)]
        call.cancel()
    messages = [r for r in [*replies, *later] if isinstance(r, orders_pb2.WatchOrdersResponse)]
    assert len(messages) == 16
    events = [r.event for r in messages if not r.heartbeat]
    beats = [r for r in messages if r.heartbeat]
    assert beats, "a quiet stream sent no heartbeat"
    assert all(not beat.HasField("event") for beat in beats)
    sequences = [event.sequence for event in events]
    assert sequences == sorted(sequences) == list(range(1, len(sequences) + 1))
    assert len({event.order_id for event in events}) == 2  # both orders' events came


async def test_the_gateway_passes_heartbeats_on_as_ndjson_lines(tmp_path: Path) -> None:
    """GET /v1/orders:watch (an admin route) on a quiet log yields heartbeat lines, not
    silence."""
    async with running_gateway(tmp_path, admin_routes=True, runtime=QUIET) as gateway:
        url = gateway.base_url + "/v1/orders:watch"
        async with gateway.session.get(url, headers=ADMIN_HEADERS) as response:
            assert response.status == 200
            lines = [json.loads(await asyncio.wait_for(response.content.readline(), 5))]
            lines.append(json.loads(await asyncio.wait_for(response.content.readline(), 5)))
    assert lines == [{"result": {"heartbeat": True}}] * 2
