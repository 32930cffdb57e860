"""Each hop counts the calls and messages of one business operation under its id."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import grpc
import pytest
from shopmesh.orders.v1 import orders_pb2, orders_pb2_grpc

from meshkit.runtime.server import ServiceHost
from tests.integration.mesh_fixture import Mesh, running_mesh

ITEMS = 3


async def test_checkout_of_n_items_is_four_internal_calls_on_the_grpc_mesh(tmp_path: Path) -> None:
    """A checkout of N items tagged with x-operation-id is counted at every hop: orders
    makes 4 calls (BatchGetProducts, QuoteStream and ReserveStream carrying N messages each
    way, Charge) whatever N is, and /metrics reports the same tallies."""
    async with running_mesh(tmp_path) as mesh:
        operation = await _grpc_checkout(mesh)
        pricing = mesh.hosts["pricing"]
        assert isinstance(pricing, ServiceHost)
        reader, writer = await asyncio.open_connection("127.0.0.1", pricing.health_port)
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


async def _grpc_checkout(mesh: Mesh) -> dict[str, Any]:
    """Places one order of ``ITEMS`` lines tagged op-checkout-1; each hop's tally of it."""
    async with grpc.aio.insecure_channel(mesh.address("orders")) as channel:
        await orders_pb2_grpc.OrdersServiceStub(channel).PlaceOrder(
            orders_pb2.PlaceOrderRequest(
                idempotency_key="count-1",
                customer_id="c",
                items=[orders_pb2.OrderItem(sku=f"SKU-0011{i}", quantity=1) for i in range(ITEMS)],
                region="DE",
                payment_token="tok_visa",
            ),
            metadata=(("x-operation-id", "op-checkout-1"),),
            timeout=10,
        )
    return {
        name: host.counters.snapshot()["operations"].get("op-checkout-1")
        for name, host in mesh.hosts.items()
    }


async def test_checkout_with_grpc_per_item_calls_is_3n_plus_1_unary_calls(tmp_path: Path) -> None:
    """With SHOPMESH_GRPC_FANOUT=per-item orders makes one unary call per line to catalog,
    pricing and inventory and one Charge: 3N+1 calls of one message each way."""
    async with running_mesh(tmp_path, grpc_fanout="per-item") as mesh:
        operation = await _grpc_checkout(mesh)
    one_each = {"calls": ITEMS, "messages_in": ITEMS, "messages_out": ITEMS}
    assert operation["catalog"] == operation["pricing"] == operation["inventory"] == one_each
    assert operation["payments"] == {"calls": 1, "messages_in": 1, "messages_out": 1}
    internal = sum(o["calls"] for name, o in operation.items() if name != "orders")
    assert internal == 3 * ITEMS + 1


@pytest.mark.parametrize(("fanout", "internal_calls"), [("per-item", 3 * ITEMS + 1), ("batch", 4)])
async def test_checkout_on_the_rest_mesh_counts_one_call_per_request(
    tmp_path: Path, fanout: str, internal_calls: int
) -> None:
    """On the REST baseline every request is one call of one message each way: per item a
    checkout of N items is N product lookups, N quotes, N reservations and a charge (3N+1),
    batched it is 4; each service's GET /metrics on its REST port says the same."""
    async with (
        running_mesh(tmp_path, transport="rest", rest_fanout=fanout) as mesh,
        aiohttp.ClientSession() as session,
    ):
        async with session.post(
            mesh.url("orders") + "/v1/orders",
            json={
                "customerId": "c",
                "items": [{"sku": f"SKU-0011{i}", "quantity": 1} for i in range(ITEMS)],
                "region": "DE",
                "paymentToken": "tok_visa",
            },
            headers={"idempotency-key": "count-1", "x-operation-id": "op-checkout-1"},
            timeout=aiohttp.ClientTimeout(total=10),
        ) as reply:
            assert reply.status == 200, await reply.text()
            assert (await reply.json())["state"] == "CONFIRMED"
        metrics = {}
        for name in mesh.hosts:
            async with session.get(mesh.url(name) + "/metrics") as answer:
                metrics[name] = (await answer.json())["operations"].get("op-checkout-1")
    per_item = ITEMS if fanout == "per-item" else 1
    one_each = {"calls": per_item, "messages_in": per_item, "messages_out": per_item}
    assert metrics["orders"] == {"calls": 1, "messages_in": 1, "messages_out": 1}
    assert metrics["catalog"] == metrics["pricing"] == metrics["inventory"] == one_each
    assert metrics["payments"] == {"calls": 1, "messages_in": 1, "messages_out": 1}
    assert sum(m["calls"] for name, m in metrics.items() if name != "orders") == internal_calls
