"""The gRPC mesh and the REST baseline do the same business: one scenario, run through
both, leaves identical orders, stock, charges and events, and bad input fails in the
same category with the same reason on both."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import grpc
import pytest

from meshkit.storage.config import StorageConfig
from tests.integration.mesh_fixture import running_mesh
from tests.integration.shop_clients import Failure, GrpcShop, RestShop, Shop, ids, same
from tests.moto_aws import CREDENTIALS, REGION, create_table

TEN_ITEMS = [(f"SKU-{n:05d}", n % 3 + 1) for n in range(10, 20)]

# (idempotency key, items, region, payment token): every saga outcome at least once.
ORDERS: list[tuple[str, list[tuple[str, int]], str, str]] = [
    ("p-one", [("SKU-00007", 1)], "DE", "tok_visa"),
    ("p-ten", TEN_ITEMS, "US", "tok_visa"),
    ("p-three", [("SKU-00021", 1), ("SKU-00022", 2), ("SKU-00023", 3)], "GB", "tok_visa"),
    ("f-lookup", [("SKU-00007", 1), ("SKU-99999", 1)], "DE", "tok_visa"),
    ("f-inactive", [("SKU-00050", 1)], "DE", "tok_visa"),
    ("f-quote", [("SKU-00007", 1)], "ZZ", "tok_visa"),
    ("f-reserve", [("SKU-00007", 2), ("SKU-00009", 1000)], "DE", "tok_visa"),
    ("f-charge", [("SKU-00007", 2), ("SKU-00009", 1)], "FR", "tok_decline"),
    ("p-one", [("SKU-00007", 1)], "DE", "tok_visa"),  # a retry: the same order again
    ("p-one", [("SKU-00008", 1)], "DE", "tok_visa"),  # the key reused for another order
    # Bad input: refused before any work, naming the field.
    ("b-empty", [], "DE", "tok_visa"),
    ("b-dup", [("SKU-00021", 1), ("SKU-00021", 2)], "DE", "tok_visa"),
    ("b-zero", [("SKU-00001", 0)], "DE", "tok_visa"),
    ("b-sku", [("sku 1", 1)], "DE", "tok_visa"),
    ("b-region", [("SKU-00001", 1)], "de", "tok_visa"),
    ("", [("SKU-00001", 1)], "DE", "tok_visa"),
]
SKUS = sorted({sku for _, items, _, _ in ORDERS for sku, _ in items} | {"SKU-00001"})


# The mesh variants whose answers must agree: (transport, orders' fan-out, storage).
VARIANTS = {
    "grpc-stream": ("grpc", "stream", "sqlite"),
    "grpc-batch": ("grpc", "batch", "sqlite"),
    "grpc-unary": ("grpc", "per-item", "sqlite"),
    "rest-item": ("rest", "per-item", "sqlite"),
    "rest-batch": ("rest", "batch", "sqlite"),
    "grpc-stream-dynamodb": ("grpc", "stream", "dynamodb"),
    "rest-item-dynamodb": ("rest", "per-item", "dynamodb"),
}


@asynccontextmanager
async def _shop(tmp_path: Path, variant: str, moto_endpoint: str) -> AsyncIterator[Shop]:
    data_dir = tmp_path / variant
    transport, fanout, kind = VARIANTS[variant]
    storage = None
    if kind == "dynamodb":
        # One table per stateful service, on the local moto server standing in for AWS.
        def storage(name: str) -> StorageConfig:
            return StorageConfig(
                kind="dynamodb",
                table=create_table(moto_endpoint),
                region=REGION,
                endpoint_url=moto_endpoint,
            )

    if transport == "rest":
        async with (
            running_mesh(data_dir, transport="rest", rest_fanout=fanout, storage=storage) as mesh,
            aiohttp.ClientSession() as session,
        ):
            yield RestShop(mesh, session)
        return
    async with running_mesh(data_dir, grpc_fanout=fanout, storage=storage) as mesh:
        names = ("orders", "inventory", "payments", "catalog")
        channels = {name: grpc.aio.insecure_channel(mesh.address(name)) for name in names}
        try:
            yield GrpcShop(mesh, channels)
        finally:
            for channel in channels.values():
                await channel.close()


async def _scenario(shop: Shop) -> dict[str, Any]:
    """Runs every order, a cancel and some lookups; returns what a customer could see."""
    seen: dict[str, Any] = {"orders": [], "stock": {}, "charges": [], "events": [], "reads": []}
    order_ids: list[str] = []
    for key, items, region, token in ORDERS:
        result = await shop.place_order(key, items, region, token)
        seen["orders"].append(same(result))
        order_id, _ = ids(result)
        if order_id and order_id not in order_ids:
            order_ids.append(order_id)
    cancelled = await shop.cancel_order(order_ids[1])  # the ten-item order
    seen["orders"].append(same(cancelled))
    for order_id in order_ids:
        order = await shop.get_order(order_id)
        seen["orders"].append(same(order))
        seen["events"].append(await shop.event_types(order_id))
        _, charge_id = ids(order)
        if charge_id:
            seen["charges"].append(same(await shop.charge(charge_id)))
    for sku in SKUS:
        seen["stock"][sku] = same(await shop.stock(sku))
    for read in (
        shop.get_order("nope"),
        shop.get_order("ord_" + "0" * 24),
        shop.get_product("SKU-99999"),
        shop.get_product("bad sku"),
        shop.get_product("SKU-00001"),
        shop.stock("SKU-99999"),
        shop.charge("ch_missing"),
    ):
        seen["reads"].append(same(await read))
    return seen


async def test_one_scenario_through_both_transports_leaves_the_same_business_state(
    tmp_path: Path, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Orders that confirm, fail at each saga step (lookup, quote, reserve, charge), retry,
    reuse a key, get cancelled or are malformed end in the same orders, stock, charges
    and event sequences on the gRPC mesh (streams, batch calls or unary calls per item) and
    on the REST baseline (per item or batched), with data in SQLite files or in DynamoDB
    tables (a local moto server)."""
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name.upper(), value)
    results = {}
    for variant in VARIANTS:
        async with _shop(tmp_path, variant, moto_endpoint) as shop:
            results[variant] = await _scenario(shop)
    grpc_seen = results["grpc-stream"]
    for variant, seen in results.items():
        for part in ("orders", "events", "charges", "stock", "reads"):
            assert seen[part] == grpc_seen[part], (variant, part)
    # And the scenario did what it says, so equality is not between two empty results.
    states = [o.get("state") for o in grpc_seen["orders"] if isinstance(o, dict)]
    assert states.count("CONFIRMED") >= 3
    assert {"CANCELLED", "FAILED"} <= set(states)
    failures = {o.reason for o in grpc_seen["orders"] if isinstance(o, Failure)}
    assert {"PAYMENT_DECLINED", "IDEMPOTENCY_KEY_REUSED"} <= failures
    assert grpc_seen["events"][0] == ["CREATED", "QUOTED", "RESERVED", "CHARGED", "CONFIRMED"]
    steps = {
        o["failure"]["step"] for o in grpc_seen["orders"] if isinstance(o, dict) and "failure" in o
    }
    assert steps == {"lookup", "quote", "reserve", "charge"}
    assert [c["state"] for c in grpc_seen["charges"]] == ["CAPTURED", "REFUNDED", "CAPTURED"]
