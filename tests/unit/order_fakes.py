"""In-memory fakes of the four order-saga ports that count every call and every effect.

Each fake behaves like the real service where the saga depends on it: reservations and
charges are idempotent by key, releases and refunds are idempotent, and unknown keys are
NotFound. Knobs on each fake inject the failures the tests need.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from meshkit.errors import DomainError, FailedPrecondition, NotFound, Unavailable
from services.kernel.money import Money
from services.orders.domain import Orders
from services.orders.model import LineItem, PlaceOrder
from services.orders.ports import (
    PricedLine,
    ProductInfo,
    ReservationOutcome,
    ReservationRequest,
)
from services.orders.records import OrderStorage

T = TypeVar("T")
TIMEOUT_S = 5.0

UNIT_PRICES = {"SKU-00001": 1000, "SKU-00002": 2500, "SKU-00003": 400, "SKU-00050": 999}
INACTIVE_SKU = "SKU-00050"
UNKNOWN_SKU = "SKU-09999"


class SimulatedCrash(BaseException):
    """Stands in for the process dying: the saga's ``except Exception`` does not catch it."""


async def bounded(awaitable: Awaitable[T], seconds: float = TIMEOUT_S) -> T:
    """Awaits with a deadline, so a bug shows up as a failure rather than a hang."""
    async with asyncio.timeout(seconds):
        return await awaitable


class FakeCatalog:
    """Products by SKU; ``error`` is raised by the next calls when set."""

    def __init__(self) -> None:
        self.products = {
            sku: ProductInfo(sku, f"Product {sku[-2:]}", sku != INACTIVE_SKU) for sku in UNIT_PRICES
        }
        self.calls = 0
        self.error: BaseException | None = None

    async def get_products(self, skus: Sequence[str]) -> Mapping[str, ProductInfo]:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return {sku: self.products[sku] for sku in skus if sku in self.products}


class FakePricing:
    """Line total = unit price x quantity, no tax; ``error`` is raised when set."""

    def __init__(self) -> None:
        self.calls = 0
        self.error: BaseException | None = None

    async def quote(
        self, items: Sequence[LineItem], region: str, promo_code: str
    ) -> Sequence[PricedLine]:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return [
            PricedLine(item.sku, item.quantity, Money(UNIT_PRICES[item.sku] * item.quantity))
            for item in items
        ]


class FakeInventory:
    """Stock and reservations by key.

    ``fail_releases`` fails that many release calls before touching anything;
    ``lose_release_replies`` performs that many releases and then fails anyway (the reply
    was lost); ``error_after_reserve`` is raised after a reserve call took effect.
    """

    def __init__(self, stock: Mapping[str, int]) -> None:
        self.stock = dict(stock)
        self.held: dict[str, tuple[str, int]] = {}
        self.released: Counter[str] = Counter()  # units-returning releases per key
        self.reserve_calls = 0
        self.release_calls: list[str] = []
        self.fail_releases = 0
        self.lose_release_replies = 0
        self.error_after_reserve: BaseException | None = None

    async def reserve(self, requests: Sequence[ReservationRequest]) -> Sequence[ReservationOutcome]:
        self.reserve_calls += 1
        outcomes = [self._reserve_one(request) for request in requests]
        if self.error_after_reserve is not None:
            raise self.error_after_reserve
        return outcomes

    async def release(self, reservation_key: str) -> None:
        self.release_calls.append(reservation_key)
        if self.fail_releases:
            self.fail_releases -= 1
            raise Unavailable(message="inventory is down", reason="UNAVAILABLE")
        if reservation_key not in self.held:
            raise NotFound(message="no such reservation", reason="RESERVATION_NOT_FOUND")
        if not self.released[reservation_key]:
            sku, quantity = self.held[reservation_key]
            self.stock[sku] += quantity
            self.released[reservation_key] += 1
        if self.lose_release_replies:
            self.lose_release_replies -= 1
            raise Unavailable(message="reply lost", reason="UNAVAILABLE")

    def _reserve_one(self, request: ReservationRequest) -> ReservationOutcome:
        key = request.reservation_key
        if key in self.held:
            return ReservationOutcome(key)
        available = self.stock[request.sku]
        if available < request.quantity:
            error: DomainError = FailedPrecondition(
                message=f"only {available} left",
                reason="INSUFFICIENT_STOCK",
                metadata={"sku": request.sku},
            )
            return ReservationOutcome(key, error)
        self.stock[request.sku] -= request.quantity
        self.held[key] = (request.sku, request.quantity)
        return ReservationOutcome(key)


@dataclass
class FakeCharge:
    idempotency_key: str
    amount: Money
    refunds: int = 0  # refunds that returned money (at most 1)


class FakePayments:
    """Charges by id; "tok_decline" is declined, ``error`` is raised when set and
    ``error_after_charge`` is raised after a charge took effect (the reply was lost).

    ``charging`` is set when a charge call arrives; when ``gate`` is set, the call then
    waits for it, so a test can act while a saga is mid-charge.
    """

    def __init__(self) -> None:
        self.charges: dict[str, FakeCharge] = {}
        self.charge_calls = 0
        self.refund_calls: list[str] = []
        self.find_calls = 0
        self.error_after_charge: BaseException | None = None
        self.error: BaseException | None = None
        self.charging = asyncio.Event()
        self.gate: asyncio.Event | None = None
        self._ids = (f"ch_{n:024x}" for n in itertools.count(1))

    async def charge(
        self, idempotency_key: str, amount: Money, payment_token: str, reference: str
    ) -> str:
        self.charge_calls += 1
        self.charging.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.error is not None:
            raise self.error
        if payment_token == "tok_decline":
            raise FailedPrecondition(message="the card was declined", reason="PAYMENT_DECLINED")
        for charge_id, charge in self.charges.items():
            if charge.idempotency_key == idempotency_key:
                return charge_id
        charge_id = next(self._ids)
        self.charges[charge_id] = FakeCharge(idempotency_key, amount)
        if self.error_after_charge is not None:
            raise self.error_after_charge
        return charge_id

    async def find_charge(self, idempotency_key: str) -> str | None:
        self.find_calls += 1
        for charge_id, charge in self.charges.items():
            if charge.idempotency_key == idempotency_key:
                return charge_id
        return None

    async def refund(self, charge_id: str, reason: str) -> None:
        self.refund_calls.append(charge_id)
        charge = self.charges.get(charge_id)
        if charge is None:
            raise NotFound(message="no such charge", reason="CHARGE_NOT_FOUND")
        charge.refunds = 1

    def captured(self) -> int:
        """Minor units charged and not refunded."""
        return sum(c.amount.amount_minor for c in self.charges.values() if not c.refunds)


INITIAL_STOCK = {"SKU-00001": 10, "SKU-00002": 10, "SKU-00003": 10, "SKU-00050": 10}


@dataclass
class World:
    """An Orders on a store (SQLite file or DynamoDB table), wired to fresh fakes."""

    open_store: Callable[[], OrderStorage]
    """Opens the same data again each time: a reopen is a restarted process."""
    catalog: FakeCatalog = field(default_factory=FakeCatalog)
    pricing: FakePricing = field(default_factory=FakePricing)
    inventory: FakeInventory = field(default_factory=lambda: FakeInventory(INITIAL_STOCK))
    payments: FakePayments = field(default_factory=FakePayments)
    store: OrderStorage = field(init=False)
    service: Orders = field(init=False)

    def __post_init__(self) -> None:
        self.reopen()

    def reopen(self) -> None:
        """Starts over as a restarted process would: new store and service, same data."""
        if hasattr(self, "store"):
            self.store.close()
        self.store = self.open_store()
        self.service = Orders(self.store, self.catalog, self.pricing, self.inventory, self.payments)


def command(
    *items: tuple[str, int],
    key: str = "key-1",
    token: str = "tok_visa",
    customer_id: str = "cust-1",
) -> PlaceOrder:
    """A valid PlaceOrder of ``items`` (default: two units of SKU-00001, one of SKU-00002)."""
    return PlaceOrder(
        idempotency_key=key,
        customer_id=customer_id,
        items=tuple(
            LineItem(sku, qty) for sku, qty in items or [("SKU-00001", 2), ("SKU-00002", 1)]
        ),
        region="DE",
        promo_code="",
        payment_token=token,
    )
