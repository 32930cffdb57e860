"""Stock levels and idempotent reservations.

Every mutation runs in one write transaction of the store, so a check ("enough units?")
and the change it guards commit together or not at all. The methods are synchronous:
a SQLite call takes microseconds, less than handing it to a thread would.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from services.common.clock import Clock, utc_now
from services.common.errors import FailedPrecondition, FieldViolation, NotFound
from services.common.seed import sku_violation
from services.common.validation import (
    idempotency_key_reused,
    raise_violations,
    range_violation,
    text_violation,
)

if TYPE_CHECKING:
    from services.inventory.store import InventoryRecords, InventoryStore

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


class Inventory:
    """Stock and reservations over an InventoryStore."""

    def __init__(self, store: InventoryStore, clock: Clock = utc_now) -> None:
        self._store = store
        self._clock = clock

    def get_stock(self, sku: str) -> Stock:
        """The stock of ``sku``; InvalidArgument if malformed, NotFound if unknown."""
        raise_violations([sku_violation(sku, "sku")])
        with self._store.transaction(write=False) as records:
            return _stock_of(records, sku)

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
        with self._store.transaction() as records:
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
            reservation = Reservation(
                reservation_key, sku, quantity, ReservationState.HELD, self._clock()
            )
            records.add_reservation(reservation)
            records.move_stock(sku, -quantity, quantity)
            return reservation

    def release(self, reservation_key: str) -> Reservation:
        """Returns a reservation's units to stock; a released reservation is returned as is."""
        raise_violations([text_violation(reservation_key, "reservation_key", MAX_KEY_LENGTH)])
        with self._store.transaction() as records:
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

    def restock(self, sku: str, quantity: int) -> Stock:
        """Adds ``quantity`` delivered units to the available stock of a known SKU."""
        raise_violations(_delivery_violations(sku, quantity, ""))
        with self._store.transaction() as records:
            return _add_stock(records, sku, quantity)

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
        with self._store.transaction() as records:
            return [_add_stock(records, sku, quantity) for sku, quantity in deliveries]


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
