"""The shop's books as its own APIs tell them, for the invariants: stock, orders,
reservations by key, charges by idempotency key, and the event log — over gRPC or over
the REST baseline, never by opening a service's files behind its back.

Reads go to each service directly (not through the chaos relays) and only once the load
has stopped. Where the log ends is marked by an order the suite places last (its
"sentinel"): ``events`` reads until that order's terminal event, since WatchOrders never
says that it has caught up.
"""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar
from urllib.parse import quote

import aiohttp
import grpc
from shopmesh.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from shopmesh.orders.v1 import orders_pb2, orders_pb2_grpc
from shopmesh.payments.v1 import payments_pb2, payments_pb2_grpc

T = TypeVar("T")

READ_TIMEOUT_S = 10.0
EVENT_PAGE = 1000
TERMINAL_EVENTS = frozenset({"CONFIRMED", "FAILED", "CANCELLED"})
TERMINAL_STATES = TERMINAL_EVENTS


@dataclass(frozen=True)
class Line:
    sku: str
    quantity: int
    reservation_key: str


@dataclass(frozen=True)
class OrderView:
    order_id: str
    state: str
    """PENDING, CONFIRMED, FAILED or CANCELLED."""
    lines: tuple[Line, ...]
    charge_id: str


@dataclass(frozen=True)
class ReservationView:
    key: str
    sku: str
    quantity: int
    state: str
    """HELD or RELEASED."""


@dataclass(frozen=True)
class ChargeView:
    charge_id: str
    state: str
    """CAPTURED or REFUNDED."""
    reference: str


@dataclass(frozen=True)
class StockView:
    available: int
    reserved: int

    @property
    def total(self) -> int:
        return self.available + self.reserved


@dataclass(frozen=True)
class Event:
    sequence: int
    order_id: str
    type: str
    """CREATED, QUOTED, ..., FAILED."""
    detail: str
    time: datetime.datetime


class Books(Protocol):
    async def stock(self, sku: str) -> StockView: ...

    async def order(self, order_id: str) -> OrderView: ...

    async def reservation(self, key: str) -> ReservationView | None:
        """None when no reservation was made under the key."""

    async def charge(self, idempotency_key: str) -> ChargeView | None:
        """None when no charge was made under the key."""

    async def events(self, after: int, sentinel: str, timeout_s: float) -> list[Event]:
        """The log after ``after`` through the terminal event of order ``sentinel``."""

    async def close(self) -> None: ...


async def _unless_not_found(call: Awaitable[T]) -> T | None:
    """The reply of a read, or None when the service says NOT_FOUND."""
    try:
        return await call
    except grpc.aio.AioRpcError as exc:
        if exc.code() == grpc.StatusCode.NOT_FOUND:
            return None
        raise


def _name(enum: Any, value: int, prefix: str) -> str:
    return str(enum.Name(value)).removeprefix(prefix)


class GrpcBooks:
    """The books over gRPC: orders, inventory and payments dialled directly."""

    def __init__(self, addresses: dict[str, str]) -> None:
        self._channels = {
            name: grpc.aio.insecure_channel(addresses[name])
            for name in ("orders", "inventory", "payments")
        }
        self._orders = orders_pb2_grpc.OrdersServiceStub(self._channels["orders"])
        self._inventory = inventory_pb2_grpc.InventoryServiceStub(self._channels["inventory"])
        self._payments = payments_pb2_grpc.PaymentsServiceStub(self._channels["payments"])

    async def stock(self, sku: str) -> StockView:
        request = inventory_pb2.GetStockRequest(sku=sku)
        stock = (await self._inventory.GetStock(request, timeout=READ_TIMEOUT_S)).stock
        return StockView(stock.available, stock.reserved)

    async def order(self, order_id: str) -> OrderView:
        request = orders_pb2.GetOrderRequest(order_id=order_id)
        order = (await self._orders.GetOrder(request, timeout=READ_TIMEOUT_S)).order
        return OrderView(
            order.order_id,
            _name(orders_pb2.OrderState, order.state, "ORDER_STATE_"),
            tuple(Line(x.sku, x.quantity, x.reservation_key) for x in order.lines),
            order.charge_id,
        )

    async def reservation(self, key: str) -> ReservationView | None:
        request = inventory_pb2.GetReservationRequest(reservation_key=key)
        reply = await _unless_not_found(
            self._inventory.GetReservation(request, timeout=READ_TIMEOUT_S)
        )
        if reply is None:
            return None
        found = reply.reservation
        state = _name(inventory_pb2.ReservationState, found.state, "RESERVATION_STATE_")
        return ReservationView(found.reservation_key, found.sku, found.quantity, state)

    async def charge(self, idempotency_key: str) -> ChargeView | None:
        request = payments_pb2.GetChargeRequest(idempotency_key=idempotency_key)
        reply = await _unless_not_found(self._payments.GetCharge(request, timeout=READ_TIMEOUT_S))
        if reply is None:
            return None
        found = reply.charge
        state = _name(payments_pb2.ChargeState, found.state, "CHARGE_STATE_")
        return ChargeView(found.charge_id, state, found.reference)

    async def events(self, after: int, sentinel: str, timeout_s: float) -> list[Event]:
        found: list[Event] = []
        # The generated stubs type a server stream as the sync API's; under grpc.aio it is
        # an async iterator of responses.
        call: Any = self._orders.WatchOrders(
            orders_pb2.WatchOrdersRequest(after_sequence=after), timeout=timeout_s
        )
        try:
            async for message in call:
                if message.heartbeat:
                    continue
                event = message.event
                found.append(
                    Event(
                        event.sequence,
                        event.order_id,
                        _name(orders_pb2.OrderEventType, event.type, "ORDER_EVENT_TYPE_"),
                        event.detail,
                        event.create_time.ToDatetime(tzinfo=datetime.UTC),
                    )
                )
                if found[-1].order_id == sentinel and found[-1].type in TERMINAL_EVENTS:
                    return found
        finally:
            call.cancel()
        raise RuntimeError("WatchOrders ended before the sentinel order's terminal event")

    async def close(self) -> None:
        for channel in self._channels.values():
            await channel.close()


class RestBooks:
    """The books over the REST baseline (the same facts, as JSON)."""

    def __init__(self, urls: dict[str, str]) -> None:
        self._urls = urls
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=READ_TIMEOUT_S),
            connector=aiohttp.TCPConnector(limit=32),
        )

    async def _get(self, service: str, path: str) -> Any | None:
        """The JSON document, or None for a 404; any other failure raises."""
        async with self._session.get(self._urls[service] + path) as reply:
            if reply.status == 404:
                return None
            reply.raise_for_status()
            return await reply.json()

    async def stock(self, sku: str) -> StockView:
        found = await self._must("inventory", f"/v1/stock/{quote(sku, safe='')}")
        return StockView(int(found["available"]), int(found["reserved"]))

    async def order(self, order_id: str) -> OrderView:
        found = await self._must("orders", f"/v1/orders/{quote(order_id, safe='')}")
        lines = tuple(
            Line(x["sku"], int(x["quantity"]), x["reservationKey"]) for x in found["lines"]
        )
        return OrderView(found["orderId"], found["state"], lines, found["chargeId"])

    async def reservation(self, key: str) -> ReservationView | None:
        found = await self._get("inventory", f"/v1/reservations/{quote(key, safe='')}")
        if found is None:
            return None
        return ReservationView(
            found["reservationKey"], found["sku"], int(found["quantity"]), found["state"]
        )

    async def charge(self, idempotency_key: str) -> ChargeView | None:
        found = await self._get("payments", f"/v1/charges?idempotencyKey={quote(idempotency_key)}")
        if found is None:
            return None
        return ChargeView(found["chargeId"], found["state"], found["reference"])

    async def events(self, after: int, sentinel: str, timeout_s: float) -> list[Event]:
        found: list[Event] = []
        async with asyncio.timeout(timeout_s):
            async for event in self._pages(after):
                found.append(event)
                if event.order_id == sentinel and event.type in TERMINAL_EVENTS:
                    return found
        raise RuntimeError("the event log ended before the sentinel order's terminal event")

    async def _pages(self, after: int) -> AsyncIterator[Event]:
        while True:
            page = await self._must(
                "orders", f"/v1/orders/events?afterSequence={after}&limit={EVENT_PAGE}"
            )
            if not page["events"]:
                return
            for raw in page["events"]:
                yield Event(
                    int(raw["sequence"]),
                    raw["orderId"],
                    raw["type"],
                    raw["detail"],
                    datetime.datetime.fromisoformat(raw["createTime"]),
                )
                after = int(raw["sequence"])

    async def _must(self, service: str, path: str) -> Any:
        found = await self._get(service, path)
        if found is None:
            raise LookupError(f"{service}: GET {path} answered 404")
        return found

    async def close(self) -> None:
        await self._session.close()
