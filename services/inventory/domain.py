"""Stock levels and idempotent reservations.

Every mutation runs as one unit of the store (``atomically``), so a check ("enough
units?") and the change it guards commit together or not at all. A unit is a function of
the records it reads: a store may run it again after a write conflict (DynamoDB does).
The methods are synchronous; adapters run them off the event loop when the store blocks.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol, TypeVar

from meshkit.errors import FailedPrecondition, FieldViolation, NotFound
from services.kernel.clock import Clock, utc_now
from services.kernel.seed import sku_violation
from services.kernel.validation import (
    idempotency_key_reused,
    raise_violations,
    range_violation,
    text_violation,
)

T = TypeVar("T")
MAX_KEY_LENGTH = 200
MAX_RESERVE_QUANTITY = 10_000
MAX_RESTOCK_QUANTITY = 1_000_000


class ReservationState(enum.Enum):
    """Whether a reservation's units are held or went back to stock."""

    HELD = "HELD"
    RELEASED = "RELEASED"


@dataclass(frozen=True)
class Reservation:
    """Units of one SKU held under a caller's idempotency key."""

    reservation_key: str
    sku: str
    quantity: int
    state: ReservationState
    create_time: datetime


@dataclass(frozen=True)
class Stock:
    """Units of one SKU that can be reserved, and units held by reservations."""

    sku: str
    available: int
    reserved: int


class InventoryRecords(Protocol):
    """Reads and writes inside one unit of an InventoryStorage."""

    def stock(self, sku: str) -> Stock | None:
        """The stock of ``sku``, if the SKU is stocked."""

    def move_stock(self, sku: str, available_delta: int, reserved_delta: int) -> Stock:
        """Adds the deltas to a stocked SKU's counters and returns the new stock."""

    def reservation(self, reservation_key: str) -> Reservation | None:
        """The reservation stored under this key, if any."""

    def add_reservation(self, reservation: Reservation) -> None:
        """Stores a new reservation."""

    def set_state(self, reservation_key: str, state: ReservationState) -> None:
        """Changes a stored reservation's state."""


class InventoryStorage(Protocol):
    """Where stock and reservations live: SQLite locally, DynamoDB on AWS."""

    blocking: bool
    """True when calls wait on the network, so they must not run on the event loop."""

    def atomically(self, work: Callable[[InventoryRecords], T], *, write: bool = True) -> T:
        """Runs ``work`` on the records and commits its writes all together, or none."""

    def close(self) -> None:
        """Releases the connection."""


class Inventory:
    """Stock and reservations over an InventoryStorage."""

    def __init__(self, store: InventoryStorage, clock: Clock = utc_now) -> None:
        self._store = store
        self._clock = clock

    @property
    def blocking(self) -> bool:
        """True when calls wait on the network (run them off the event loop)."""
        return self._store.blocking

    def get_stock(self, sku: str) -> Stock:
        """The stock of ``sku``; InvalidArgument if malformed, NotFound if unknown."""
        raise_violations([sku_violation(sku, "sku")])
        return self._store.atomically(lambda records: _stock_of(records, sku), write=False)

    def reserve(self, reservation_key: str, sku: str, quantity: int) -> Reservation:
        """Holds ``quantity`` units of ``sku`` under ``reservation_key``.

        Repeating a key with the same SKU and quantity returns the stored reservation,
        even if it was released since, and changes nothing. The same key with another
        SKU or quantity is rejected (IDEMPOTENCY_KEY_REUSED).
        """
        raise_violations(
            [
                text_violation(reservation_key, "reservation_key", MAX_KEY_LENGTH),
                sku_violation(sku, "sku"),
                range_violation(quantity, "quantity", 1, MAX_RESERVE_QUANTITY),
            ]
        )
        now = self._clock()

        def reserve(records: InventoryRecords) -> Reservation:
            existing = records.reservation(reservation_key)
            if existing is not None:
                if (existing.sku, existing.quantity) != (sku, quantity):
                    raise idempotency_key_reused(
                        "reservation_key", f"{existing.quantity} x {existing.sku}"
                    )
                return existing
            stock = _stock_of(records, sku)
            if stock.available < quantity:
                raise FailedPrecondition(
                    message=f"only {stock.available} units of {sku} left, {quantity} requested",
                    reason="INSUFFICIENT_STOCK",
                    metadata={
                        "sku": sku,
                        "available": str(stock.available),
                        "requested": str(quantity),
                    },
                )
            reservation = Reservation(reservation_key, sku, quantity, ReservationState.HELD, now)
            records.add_reservation(reservation)
            records.move_stock(sku, -quantity, quantity)
            return reservation

        return self._store.atomically(reserve)

    def release(self, reservation_key: str) -> Reservation:
        """Returns a reservation's units to stock; a released reservation is returned as is."""
        raise_violations([text_violation(reservation_key, "reservation_key", MAX_KEY_LENGTH)])

        def release(records: InventoryRecords) -> Reservation:
            reservation = records.reservation(reservation_key)
            if reservation is None:
                raise NotFound(
                    message=f"no reservation under key {reservation_key!r}",
                    reason="RESERVATION_NOT_FOUND",
                    resource_type="reservation",
                    resource_name=reservation_key,
                )
            if reservation.state is ReservationState.RELEASED:
                return reservation
            records.set_state(reservation_key, ReservationState.RELEASED)
            records.move_stock(reservation.sku, reservation.quantity, -reservation.quantity)
            return replace(reservation, state=ReservationState.RELEASED)

        return self._store.atomically(release)

    def restock(self, sku: str, quantity: int) -> Stock:
        """Adds ``quantity`` delivered units to the available stock of a known SKU."""
        raise_violations(_delivery_violations(sku, quantity, ""))
        return self._store.atomically(lambda records: _add_stock(records, sku, quantity))

    def restock_many(self, deliveries: Sequence[tuple[str, int]]) -> list[Stock]:
        """Applies a delivery note of (sku, quantity) lines all at once, or not at all.

        Every line is checked first (violations name "deliveries[i].sku"/".quantity"), then
        all lines are added in one transaction; the stock after each line is returned.
        """
        raise_violations(
            violation
            for index, (sku, quantity) in enumerate(deliveries)
            for violation in _delivery_violations(sku, quantity, f"deliveries[{index}].")
        )
        return self._store.atomically(
            lambda records: [_add_stock(records, sku, quantity) for sku, quantity in deliveries]
        )


def _delivery_violations(sku: str, quantity: int, prefix: str) -> list[FieldViolation | None]:
    return [
        sku_violation(sku, f"{prefix}sku"),
        range_violation(quantity, f"{prefix}quantity", 1, MAX_RESTOCK_QUANTITY),
    ]


def _add_stock(records: InventoryRecords, sku: str, quantity: int) -> Stock:
    _stock_of(records, sku)  # a delivery of an unknown SKU is NotFound
    return records.move_stock(sku, quantity, 0)


def _stock_of(records: InventoryRecords, sku: str) -> Stock:
    stock = records.stock(sku)
    if stock is None:
        raise NotFound(
            message=f"product {sku} is not stocked",
            reason="PRODUCT_NOT_FOUND",
            resource_type="product",
            resource_name=sku,
        )
    return stock
