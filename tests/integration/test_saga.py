"""The order saga across the real services: compensation, idempotency and bad input."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from shopmesh.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from shopmesh.orders.v1 import orders_pb2, orders_pb2_grpc

from meshkit.errors import FailedPrecondition, InvalidArgument, NotFound
from meshkit.runtime.error_mapping import error_from_rpc
from services.payments.domain import FailurePolicy
from tests.integration.mesh_fixture import Mesh, running_mesh

EventType = orders_pb2.OrderEventType


class Shop:
    """Stubs over one running mesh, and the facts a test checks afterwards."""

    def __init__(self, mesh: Mesh, channels: dict[str, grpc.aio.Channel]) -> None:
        self.mesh = mesh
        self.orders = orders_pb2_grpc.OrdersServiceStub(channels["orders"])
        self.inventory = inventory_pb2_grpc.InventoryServiceStub(channels["inventory"])

    async def stock(self, sku: str) -> tuple[int, int]:
        reply = await self.inventory.GetStock(inventory_pb2.GetStockRequest(sku=sku), timeout=5)
        return reply.stock.available, reply.stock.reserved

    async def events(self, order_id: str = "") -> list[orders_pb2.OrderEvent]:
        """Every stored event (of one order), read until the live tail goes quiet."""
        call = self.orders.WatchOrders(orders_pb2.WatchOrdersRequest(order_id=order_id), timeout=5)
        events = []
        try:
            while True:
                reply = await asyncio.wait_for(call.read(), 0.5)
                assert isinstance(reply, orders_pb2.WatchOrdersResponse)
                events.append(reply.event)
        except TimeoutError:
            call.cancel()
        return events


@pytest.fixture
async def shop(tmp_path: Path) -> AsyncIterator[Shop]:
    async with _shop(tmp_path) as running:
        yield running


def _shop(tmp_path: Path, failures: FailurePolicy | None = None) -> _ShopContext:
    return _ShopContext(tmp_path, failures)


class _ShopContext:
    def __init__(self, tmp_path: Path, failures: FailurePolicy | None) -> None:
        self._mesh = running_mesh(tmp_path, failures)
        self._channels: dict[str, grpc.aio.Channel] = {}

    async def __aenter__(self) -> Shop:
        mesh = await self._mesh.__aenter__()
        for name in ("orders", "inventory"):
            self._channels[name] = grpc.aio.insecure_channel(mesh.address(name))
        return Shop(mesh, self._channels)

    async def __aexit__(self, *exc: object) -> None:
        for channel in self._channels.values():
            await channel.close()
        await self._mesh.__aexit__(None, None, None)


def _order(
    key: str, *items: tuple[str, int], region: str = "DE", token: str = "tok_visa"
) -> orders_pb2.PlaceOrderRequest:
    return orders_pb2.PlaceOrderRequest(
        idempotency_key=key,
        customer_id="cust-1",
        items=[orders_pb2.OrderItem(sku=sku, quantity=qty) for sku, qty in items],
        region=region,
        payment_token=token,
    )


async def test_happy_path_confirms_and_holds_stock(shop: Shop) -> None:
    """A good order is CONFIRMED, its lines are priced and its stock is held."""
    before = await shop.stock("SKU-00007")
    reply = await shop.orders.PlaceOrder(
        _order("k-ok", ("SKU-00007", 3), ("SKU-00008", 1)), timeout=10
    )
    order = reply.order
    assert order.state == orders_pb2.ORDER_STATE_CONFIRMED
    assert order.charge_id.startswith("ch_")
    assert sum(line.total.amount_minor for line in order.lines) == order.total.amount_minor > 0
    assert await shop.stock("SKU-00007") == (before[0] - 3, before[1] + 3)


# Each case injects a failure at one saga step. R-G54: every completed step is
# compensated in reverse exactly once, stock and charges are back where they were.
FAILURES = {
    "lookup": (_order("k-lookup", ("SKU-00007", 1), ("SKU-00299", 1), ("SKU-99999", 1)), NotFound),
    "quote": (_order("k-quote", ("SKU-00007", 1), region="ZZ"), InvalidArgument),
    "reserve": (_order("k-reserve", ("SKU-00007", 2), ("SKU-00009", 1000)), FailedPrecondition),
    "charge": (
        _order("k-charge", ("SKU-00007", 2), ("SKU-00009", 1), token="tok_decline"),
        FailedPrecondition,
    ),
}


@pytest.mark.parametrize("step", list(FAILURES))
async def test_failure_at_each_step_compensates_exactly_once(shop: Shop, step: str) -> None:
    """A failing step fails the order, undoes what was done once, and restores stock."""
    request, error_class = FAILURES[step]
    skus = sorted({item.sku for item in request.items if item.sku != "SKU-99999"})
    before = {sku: await shop.stock(sku) for sku in skus}
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await shop.orders.PlaceOrder(request, timeout=10)
    error = error_from_rpc(caught.value)
    assert isinstance(error, error_class)
    order_id = error.metadata["order_id"]
    order = (await shop.orders.GetOrder(orders_pb2.GetOrderRequest(order_id=order_id))).order
    assert order.state == orders_pb2.ORDER_STATE_FAILED
    assert order.failure.step == step
    assert {sku: await shop.stock(sku) for sku in skus} == before
    types = [event.type for event in await shop.events(order_id)]
    reserved_lines = 2 if step == "charge" else 1 if step == "reserve" else 0
    assert types.count(EventType.ORDER_EVENT_TYPE_STOCK_RELEASED) == reserved_lines
    assert types.count(EventType.ORDER_EVENT_TYPE_REFUNDED) == 0  # nothing was captured
    assert types[-1] == EventType.ORDER_EVENT_TYPE_FAILED


async def test_one_unavailable_charge_is_retried_transparently(tmp_path: Path) -> None:
    """R-D34: an UNAVAILABLE answer is retried by the channel's retry policy, so an order
    whose first charge attempt hits an outage is still confirmed, charged once."""
    async with _shop(tmp_path, FailurePolicy(unavailable_every=2)) as shop:
        first = await shop.orders.PlaceOrder(_order("k-retry-1", ("SKU-00021", 1)), timeout=10)
        # Attempt 2 (this order's first) is UNAVAILABLE; attempt 3 is its retry.
        second = await shop.orders.PlaceOrder(_order("k-retry-2", ("SKU-00022", 1)), timeout=10)
        for reply in (first, second):
            assert reply.order.state == orders_pb2.ORDER_STATE_CONFIRMED
        charged = [e for e in await shop.events() if e.type == EventType.ORDER_EVENT_TYPE_CHARGED]
        assert len(charged) == 2


async def test_payments_outage_is_retried_then_compensated(tmp_path: Path) -> None:
    """UNAVAILABLE from payments is retried (bounded), then the saga compensates."""
    async with _shop(tmp_path, FailurePolicy(unavailable_every=1)) as shop:
        before = await shop.stock("SKU-00020")
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await shop.orders.PlaceOrder(_order("k-outage", ("SKU-00020", 4)), timeout=10)
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
        assert await shop.stock("SKU-00020") == before


async def test_same_key_twice_and_ten_times_concurrently_is_one_order(shop: Shop) -> None:
    """R-G50: repeats and concurrent repeats of a key get one order and identical replies."""
    request = _order("k-idem", ("SKU-00030", 1), ("SKU-00031", 2))
    before = await shop.stock("SKU-00030")
    replies = await asyncio.gather(
        *(shop.orders.PlaceOrder(request, timeout=10) for _ in range(10))
    )
    again = await shop.orders.PlaceOrder(request, timeout=10)
    assert len({reply.SerializeToString(deterministic=True) for reply in [*replies, again]}) == 1
    assert await shop.stock("SKU-00030") == (before[0] - 1, before[1] + 1)
    created = [e for e in await shop.events() if e.type == EventType.ORDER_EVENT_TYPE_CREATED]
    assert len(created) == 1


async def test_same_key_different_request_is_rejected(shop: Shop) -> None:
    """R-G50: reusing a key for another request is INVALID_ARGUMENT IDEMPOTENCY_KEY_REUSED."""
    await shop.orders.PlaceOrder(_order("k-reuse", ("SKU-00040", 1)), timeout=10)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await shop.orders.PlaceOrder(_order("k-reuse", ("SKU-00040", 2)), timeout=10)
    error = error_from_rpc(caught.value)
    assert isinstance(error, InvalidArgument)
    assert error.reason == "IDEMPOTENCY_KEY_REUSED"


async def test_failed_order_replays_the_same_error(shop: Shop) -> None:
    """Retrying a failed order's key returns the same error and changes nothing."""
    request = _order("k-fail-replay", ("SKU-00050", 1), token="tok_decline")
    errors = []
    for _ in range(2):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await shop.orders.PlaceOrder(request, timeout=10)
        errors.append((caught.value.code(), caught.value.details()))
    assert errors[0] == errors[1]
    assert errors[0][0] == grpc.StatusCode.FAILED_PRECONDITION


BAD_REQUESTS = {
    "empty order": (_order("k-bad-1"), "items"),
    "quantity zero": (_order("k-bad-2", ("SKU-00001", 0)), "items[0].quantity"),
    "malformed sku": (_order("k-bad-3", ("sku 1", 1)), "items[0].sku"),
    "lowercase region": (_order("k-bad-4", ("SKU-00001", 1), region="de"), "region"),
    "no key": (_order("", ("SKU-00001", 1)), "idempotency_key"),
}


@pytest.mark.parametrize("case", list(BAD_REQUESTS))
async def test_bad_input_is_invalid_argument_naming_the_field(shop: Shop, case: str) -> None:
    """Malformed orders fail with INVALID_ARGUMENT naming the field, and nothing is written."""
    request, field = BAD_REQUESTS[case]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await shop.orders.PlaceOrder(request, timeout=10)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    error = error_from_rpc(caught.value)
    assert field in [v.field for v in error.violations]
    assert await shop.events() == []


@pytest.mark.parametrize(
    ("order_id", "code"),
    [("nope", grpc.StatusCode.INVALID_ARGUMENT), ("ord_" + "0" * 24, grpc.StatusCode.NOT_FOUND)],
)
async def test_get_order_rejects_malformed_and_unknown_ids(
    shop: Shop, order_id: str, code: grpc.StatusCode
) -> None:
    """A malformed order id is INVALID_ARGUMENT; a well-formed unknown one is NOT_FOUND."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await shop.orders.GetOrder(orders_pb2.GetOrderRequest(order_id=order_id), timeout=5)
    assert caught.value.code() == code


async def test_cancel_releases_stock_and_refunds(shop: Shop) -> None:
    """Cancelling a confirmed order refunds it, releases its stock, and is idempotent."""
    before = await shop.stock("SKU-00060")
    placed = await shop.orders.PlaceOrder(_order("k-cancel", ("SKU-00060", 5)), timeout=10)
    request = orders_pb2.CancelOrderRequest(order_id=placed.order.order_id, reason="changed mind")
    first = await shop.orders.CancelOrder(request, timeout=10)
    second = await shop.orders.CancelOrder(request, timeout=10)
    assert first.order.state == second.order.state == orders_pb2.ORDER_STATE_CANCELLED
    assert await shop.stock("SKU-00060") == before
    types = [e.type for e in await shop.events(placed.order.order_id)]
    assert types.count(EventType.ORDER_EVENT_TYPE_REFUNDED) == 1
    assert types.count(EventType.ORDER_EVENT_TYPE_CANCELLED) == 1


async def test_orders_survive_a_restart(tmp_path: Path) -> None:
    """Stateful services reopen their SQLite files: orders and reservations persist."""
    async with _shop(tmp_path) as shop:
        placed = await shop.orders.PlaceOrder(_order("k-restart", ("SKU-00070", 2)), timeout=10)
        stock = await shop.stock("SKU-00070")
    async with _shop(tmp_path) as shop:
        request = orders_pb2.GetOrderRequest(order_id=placed.order.order_id)
        again = await shop.orders.GetOrder(request, timeout=5)
        assert again.order == placed.order
        assert await shop.stock("SKU-00070") == stock
