"""Stock levels and idempotent reservations.

Every mutation runs as one unit of work of the store (``Store.run``), so a check ("enough
units?") and the change it guards commit together or not at all. A unit is a function of
the records it reads: a store may run it again after a write conflict (DynamoDB does).
Batch limits and per-item outcomes live here, so both transports' adapters share them.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from meshkit.errors import (
    DomainError,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
)
from meshkit.storage.contract import Store
from services.kernel.clock import Clock, utc_now
from services.kernel.seed import sku_violation
from services.kernel.validation import (
    idempotency_key_reused,
    raise_violations,
    range_violation,
    text_violation,
)

MAX_KEY_LENGTH = 200
MAX_RESERVE_QUANTITY = 10_000
MAX_RESTOCK_QUANTITY = 1_000_000
MAX_BATCH_RESERVATIONS = 1000
"""Reservations in one batch call (a bidi stream has no limit: one unit per message)."""
MAX_RESTOCK_DELIVERIES = 10_000
"""Lines of one delivery note; the note commits as one unit of work."""


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


InventoryStorage = Store[InventoryRecords]
"""Where stock and reservations live: SQLite locally, DynamoDB on AWS."""


@dataclass(frozen=True)
class ReservationWanted:
    """One line of a batch: hold ``quantity`` units of ``sku`` under ``reservation_key``."""

    reservation_key: str
    sku: str
    quantity: int


class Inventory:
    """Stock and reservations over an InventoryStorage."""

    def __init__(self, store: InventoryStorage, clock: Clock = utc_now) -> None:
        self._store = store
        self._clock = clock

    async def get_stock(self, sku: str) -> Stock:
        """The stock of ``sku``; InvalidArgument if malformed, NotFound if unknown."""
        raise_violations([sku_violation(sku, "sku")])
        return await self._store.run(lambda records: _stock_of(records, sku), write=False)

    async def reserve(self, reservation_key: str, sku: str, quantity: int) -> Reservation:
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

        return await self._store.run(reserve)

    async def reserve_each(
        self, wanted: Sequence[ReservationWanted]
    ) -> list[Reservation | DomainError]:
        """Reserves each line in turn, one outcome per line in order: the reservation, or
        the error of that line alone (a line that cannot be reserved fails only itself,
        so a caller knows exactly which reservations to compensate)."""
        if len(wanted) > MAX_BATCH_RESERVATIONS:
            raise _too_many("reservations", MAX_BATCH_RESERVATIONS)
        outcomes: list[Reservation | DomainError] = []
        for line in wanted:
            try:
                outcomes.append(await self.reserve(line.reservation_key, line.sku, line.quantity))
            except DomainError as error:
                outcomes.append(error)
        return outcomes

    async def get_reservation(self, reservation_key: str) -> Reservation:
        """The reservation stored under ``reservation_key``, held or released; NotFound
        if none was made under it."""
        raise_violations([text_violation(reservation_key, "reservation_key", MAX_KEY_LENGTH)])
        return await self._store.run(
            lambda records: _reservation_of(records, reservation_key), write=False
        )

    async def release(self, reservation_key: str) -> Reservation:
        """Returns a reservation's units to stock; a released reservation is returned as is."""
        raise_violations([text_violation(reservation_key, "reservation_key", MAX_KEY_LENGTH)])

        def release(records: InventoryRecords) -> Reservation:
            reservation = _reservation_of(records, reservation_key)
            if reservation.state is ReservationState.RELEASED:
                return reservation
            records.set_state(reservation_key, ReservationState.RELEASED)
            records.move_stock(reservation.sku, reservation.quantity, -reservation.quantity)
            return replace(reservation, state=ReservationState.RELEASED)

        return await self._store.run(release)

    async def restock(self, sku: str, quantity: int) -> Stock:
        """Adds ``quantity`` delivered units to the available stock of a known SKU."""
        raise_violations(_delivery_violations(sku, quantity, ""))
        return await self._store.run(lambda records: _add_stock(records, sku, quantity))

    async def restock_many(self, deliveries: Sequence[tuple[str, int]]) -> list[Stock]:
        """Applies a delivery note of (sku, quantity) lines all at once, or not at all.

        Every line is checked first (violations name "deliveries[i].sku"/".quantity"), then
        all lines are added in one transaction; the stock after each line is returned.
        """
        check_delivery_count(len(deliveries))
        raise_violations(
            violation
            for index, (sku, quantity) in enumerate(deliveries)
            for violation in _delivery_violations(sku, quantity, f"deliveries[{index}].")
        )
        return await self._store.run(
            lambda records: [_add_stock(records, sku, quantity) for sku, quantity in deliveries]
        )


def check_delivery_count(count: int) -> None:
    """InvalidArgument once a delivery note has more lines than one call may carry; a
    streaming adapter calls it as lines arrive, so it stops reading at the limit."""
    if count > MAX_RESTOCK_DELIVERIES:
        raise _too_many("deliveries", MAX_RESTOCK_DELIVERIES)


def _too_many(field: str, limit: int) -> InvalidArgument:
    return InvalidArgument.of(FieldViolation(field, f"at most {limit} per call"))


def _delivery_violations(sku: str, quantity: int, prefix: str) -> list[FieldViolation | None]:
    return [
        sku_violation(sku, f"{prefix}sku"),
        range_violation(quantity, f"{prefix}quantity", 1, MAX_RESTOCK_QUANTITY),
    ]


def _add_stock(records: InventoryRecords, sku: str, quantity: int) -> Stock:
    _stock_of(records, sku)  # a delivery of an unknown SKU is NotFound
    return records.move_stock(sku, quantity, 0)


def _reservation_of(records: InventoryRecords, reservation_key: str) -> Reservation:
    reservation = records.reservation(reservation_key)
    if reservation is None:
        raise NotFound(
            message=f"no reservation under key {reservation_key!r}",
            reason="RESERVATION_NOT_FOUND",
            resource_type="reservation",
            resource_name=reservation_key,
        )
    return reservation


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
