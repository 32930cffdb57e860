"""Each hop counts the calls and messages of one business operation under its id."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import grpc
from shopmesh.orders.v1 import orders_pb2, orders_pb2_grpc

from tests.integration.mesh_fixture import running_mesh

ITEMS = 3


async def test_checkout_of_n_items_is_four_internal_calls_on_the_grpc_mesh(tmp_path: Path) -> None:
    """A checkout of N items tagged with x-operation-id is counted at every hop: orders
    makes 4 calls (BatchGetProducts, QuoteStream and ReserveStream carrying N messages each
    way, Charge) whatever N is, and /metrics reports the same tallies."""
    async with running_mesh(tmp_path) as mesh:
        async with grpc.aio.insecure_channel(mesh.address("orders")) as channel:
            await orders_pb2_grpc.OrdersServiceStub(channel).PlaceOrder(
                orders_pb2.PlaceOrderRequest(
                    idempotency_key="count-1",
                    customer_id="c",
                    items=[
                        orders_pb2.OrderItem(sku=f"SKU-0011{i}", quantity=1) for i in range(ITEMS)
                    ],
                    region="DE",
                    payment_token="tok_visa",
                ),
                metadata=(("x-operation-id", "op-checkout-1"),),
                timeout=10,
            )
        operation = {
            name: host.counters.snapshot()["operations"].get("op-checkout-1")
            for name, host in mesh.hosts.items()
        }
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", mesh.hosts["pricing"].health_port
        )
        writer.write(b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n")
        async with asyncio.timeout(5):
            raw = await reader.read()
        writer.close()
    assert operation["orders"] == {"calls": 1, "messages_in": 1, "messages_out": 1}
    assert operation["catalog"] == {"calls": 1, "messages_in": 1, "messages_out": 1}
    assert operation["pricing"] == {"calls": 1, "messages_in": ITEMS, "messages_out": ITEMS}
    assert operation["inventory"] == {"calls": 1, "messages_in": ITEMS, "messages_out": ITEMS}
    assert operation["payments"] == {"calls": 1, "messages_in": 1, "messages_out": 1}
    internal = sum(o["calls"] for name, o in operation.items() if o and name != "orders")
    assert internal == 4
    metrics = json.loads(raw.partition(b"\r\n\r\n")[2])
    assert metrics["operations"]["op-checkout-1"] == operation["pricing"]
    assert metrics["methods"]["/shopmesh.pricing.v1.PricingService/QuoteStream"]["calls"] == 1
