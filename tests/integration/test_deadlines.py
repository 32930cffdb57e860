"""Deadlines propagate hop to hop, expired work is not started, cancellation travels."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import grpc
import pytest
from shopmesh.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from shopmesh.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from shopmesh.orders.v1 import orders_pb2, orders_pb2_grpc
from shopmesh.pricing.v1 import pricing_pb2, pricing_pb2_grpc

from meshkit.runtime.channels import Channels
from meshkit.runtime.server import BuildParts, Registration, ServiceParts
from services.pricing.servicer import SERVICE_NAME as PRICING
from tests.conftest import TEST_RUNTIME, running_host
from tests.integration.mesh_fixture import running_mesh

CATALOG = catalog_pb2.DESCRIPTOR.services_by_name["CatalogService"].full_name


class SlowPricing(pricing_pb2_grpc.PricingServiceServicer):
    """Never answers a quote; records whether the caller's cancellation reached it."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.cancelled = asyncio.Event()

    async def Quote(self, request: Any, context: Any) -> Any:  # noqa: N802
        raise NotImplementedError

    async def QuoteStream(  # noqa: N802
        self, request_iterator: Any, context: Any
    ) -> AsyncIterator[pricing_pb2.QuoteStreamResponse]:
        self.started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        yield pricing_pb2.QuoteStreamResponse()  # pragma: no cover - never reached


def _only(servicer: object, add: Any, name: str) -> BuildParts:
    def build(channels: Channels) -> ServiceParts:
        return ServiceParts(registrations=[Registration(servicer, add, name)])

    return build


async def test_deadline_propagates_and_stops_the_saga(tmp_path: Path) -> None:
    """R-D32: a 1 s client deadline fails PlaceOrder at ~1 s, the slow hop is cancelled,
    and nothing after the deadline has an effect (no stock is held)."""
    slow = SlowPricing()
    pricing = _only(slow, pricing_pb2_grpc.add_PricingServiceServicer_to_server, PRICING)
    async with (
        running_mesh(tmp_path, replace_with={"pricing": pricing}) as mesh,
        grpc.aio.insecure_channel(mesh.address("orders")) as orders_channel,
        grpc.aio.insecure_channel(mesh.address("inventory")) as inventory_channel,
    ):
        orders = orders_pb2_grpc.OrdersServiceStub(orders_channel)
        inventory = inventory_pb2_grpc.InventoryServiceStub(inventory_channel)
        stock_request = inventory_pb2.GetStockRequest(sku="SKU-00005")
        before = (await inventory.GetStock(stock_request, timeout=5)).stock
        request = orders_pb2.PlaceOrderRequest(
            idempotency_key="k-deadline",
            customer_id="c",
            items=[orders_pb2.OrderItem(sku="SKU-00005", quantity=1)],
            region="DE",
            payment_token="tok_visa",
        )
        started = time.monotonic()
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await orders.PlaceOrder(request, timeout=1.0)
        elapsed = time.monotonic() - started
        assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        assert 0.9 < elapsed < 2.0
        assert slow.started.is_set()
        await asyncio.wait_for(slow.cancelled.wait(), 2)
        after = (await inventory.GetStock(stock_request, timeout=5)).stock
        assert (after.available, after.reserved) == (before.available, before.reserved)


class _GetProductOnly(catalog_pb2_grpc.CatalogServiceServicer):
    """A test double that serves GetProduct only."""

    def ListProducts(self, request: Any, context: Any) -> Any:  # noqa: N802
        raise NotImplementedError

    async def BatchGetProducts(self, request: Any, context: Any) -> Any:  # noqa: N802
        raise NotImplementedError


class Relay(_GetProductOnly):
    """Waits ``delay_s`` then asks the downstream catalog, counting what it sent."""

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.downstream: catalog_pb2_grpc.CatalogServiceAsyncStub | None = None

    async def GetProduct(  # noqa: N802
        self, request: catalog_pb2.GetProductRequest, context: Any
    ) -> catalog_pb2.GetProductResponse:
        await asyncio.sleep(self.delay_s)
        assert self.downstream is not None
        return await self.downstream.GetProduct(request)


class Counting(_GetProductOnly):
    def __init__(self) -> None:
        self.calls = 0
        self.arrived = asyncio.Event()
        self.cancelled = asyncio.Event()

    async def GetProduct(  # noqa: N802
        self, request: catalog_pb2.GetProductRequest, context: Any
    ) -> catalog_pb2.GetProductResponse:
        self.calls += 1
        self.arrived.set()
        try:
            await asyncio.sleep(30 if request.sku == "slow" else 0)
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        return catalog_pb2.GetProductResponse(product=catalog_pb2.Product(sku=request.sku))


@asynccontextmanager
async def relay_chain(
    delay_s: float,
) -> AsyncIterator[tuple[Counting, catalog_pb2_grpc.CatalogServiceAsyncStub]]:
    """client → A (Relay, waits ``delay_s``) → B (Counting): B's counter and A's stub."""
    counting = Counting()
    relay = Relay(delay_s)
    add = catalog_pb2_grpc.add_CatalogServiceServicer_to_server

    def relay_build(channels: Channels) -> ServiceParts:
        relay.downstream = catalog_pb2_grpc.CatalogServiceStub(channels["b"])
        return ServiceParts(registrations=[Registration(relay, add, CATALOG)])

    async with running_host(_only(counting, add, CATALOG)) as b:
        deps = {"b": f"127.0.0.1:{b.grpc_port}"}
        async with (
            running_host(relay_build, dependencies=deps) as a,
            grpc.aio.insecure_channel(f"127.0.0.1:{a.grpc_port}") as channel,
        ):
            yield counting, catalog_pb2_grpc.CatalogServiceStub(channel)


async def test_no_time_left_means_no_downstream_call() -> None:
    """R-D33: when the remaining time is below the margin, the hop fails without sending."""
    async with relay_chain(delay_s=0.2) as (counting, stub):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            # 0.22 s budget, 0.2 s spent: 0.02 s left is under the 0.05 s margin.
            await stub.GetProduct(catalog_pb2.GetProductRequest(sku="x"), timeout=0.22)
        assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        assert counting.calls == 0
        await stub.GetProduct(catalog_pb2.GetProductRequest(sku="x"), timeout=5)
        assert counting.calls == 1  # with time to spare, the same path does call


async def test_client_cancel_cancels_the_downstream_call() -> None:
    """R-E40: a caller that cancels cancels the hop below it, promptly."""
    async with relay_chain(delay_s=0.0) as (counting, stub):
        call = stub.GetProduct(catalog_pb2.GetProductRequest(sku="slow"), timeout=10)
        await asyncio.wait_for(counting.arrived.wait(), 5)
        cancelled_at = time.monotonic()
        call.cancel()
        await asyncio.wait_for(counting.cancelled.wait(), 2)
        assert time.monotonic() - cancelled_at < 0.5


def test_runtime_default_deadline_is_set_for_tests() -> None:
    """The shared test runtime keeps a short default deadline, so hangs surface quickly."""
    assert TEST_RUNTIME.default_deadline_s <= 2.0
