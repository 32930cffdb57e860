"""What the order service needs of a store: the records of one unit of work, and the store.

Two stores implement it: SQLite (sqlite_store.py, the local default) and DynamoDB
(dynamodb_store.py).
The domain and the saga hand ``run`` (meshkit.storage.contract.Store) a function of the
records; the store runs it as one transaction, off the event loop if the store blocks,
and may run it again after a write conflict, so such a function only reads and writes
through its records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from meshkit.errors import DomainError
from meshkit.storage.contract import Store
from meshkit.storage.times import decode_time
from services.kernel.money import Money
from services.orders.model import (
    Order,
    OrderEvent,
    OrderEventType,
    OrderFailure,
    OrderLine,
    OrderState,
    SagaStep,
)
from services.orders.saga_log import Effect, EffectKind, EffectState, SagaRecord


@dataclass(frozen=True)
class IdempotencyRecord:
    """The request a key was first used for, and the order it created."""

    fingerprint: str
    order_id: str


def order_of(fields: Mapping[str, Any], lines: Iterable[Mapping[str, Any]]) -> Order:
    """An order from its stored fields and lines, as both stores name them (numbers may
    come back as Decimal from DynamoDB)."""
    return Order(
        order_id=fields["order_id"],
        customer_id=fields["customer_id"],
        state=OrderState(fields["state"]),
        lines=tuple(
            OrderLine(
                sku=line["sku"],
                name=line["name"],
                quantity=int(line["quantity"]),
                total=Money(int(line["total_minor"]), line["currency"]),
                reservation_key=line["reservation_key"],
            )
            for line in lines
        ),
        total=Money(int(fields["total_minor"]), fields["currency"]),
        charge_id=fields["charge_id"],
        failure=(
            OrderFailure(
                fields["failure_step"], fields["failure_reason"], fields["failure_message"]
            )
            if fields["failure_step"]
            else None
        ),
        create_time=decode_time(fields["create_time"]),
        update_time=decode_time(fields["update_time"]),
    )


def event_of(sequence: int, fields: Mapping[str, Any]) -> OrderEvent:
    """An event from its stored fields, as both stores name them."""
    return OrderEvent(
        sequence=sequence,
        order_id=fields["order_id"],
        type=OrderEventType(fields["type"]),
        detail=fields["detail"],
        create_time=decode_time(fields["create_time"]),
    )


class SagaLog(Protocol):
    """Each order's saga status and the downstream effects still to undo."""

    def start(self, order_id: str) -> None:
        """Logs a new saga at its first step."""

    def get(self, order_id: str) -> SagaRecord | None:
        """The saga of an order, if it has one."""

    def unfinished(self) -> list[str]:
        """Order ids of every saga that is not DONE, oldest first."""

    def advance(self, order_id: str, step: SagaStep) -> None:
        """Records that the saga moved on to ``step``."""

    def fail(self, order_id: str, error: DomainError) -> None:
        """Records the error of the current step; compensation starts."""

    def cancel(self, order_id: str, reason: str) -> None:
        """Records a cancellation of a finished saga; compensation starts."""

    def finish(self, order_id: str) -> None:
        """Records that nothing is left to do."""

    def add_effects(
        self,
        order_id: str,
        kind: EffectKind,
        targets: Sequence[tuple[str, str]],
        state: EffectState,
    ) -> None:
        """Logs effects, given as (target, sku) pairs, in the order they are made."""

    def settle_doubts(self, order_id: str, made: Sequence[str], not_made: Sequence[str]) -> None:
        """Resolves in-doubt effects by target: ``made`` are DONE, ``not_made`` are dropped."""

    def to_undo(self, order_id: str) -> list[Effect]:
        """Effects not yet compensated, newest first (the order to undo them in)."""

    def mark_compensated(self, order_id: str, effect_id: int) -> None:
        """Records that an effect was undone."""


class OrderRecords(Protocol):
    """Reads and writes inside one unit of work; ``saga`` is the saga log."""

    @property
    def saga(self) -> SagaLog:
        """The saga log, in the same unit of work."""

    def add_order(self, order: Order) -> None:
        """Stores a new order with its lines."""

    def order(self, order_id: str) -> Order | None:
        """The order with this id, if any."""

    def name_lines(self, order_id: str, names: Sequence[str], now: datetime) -> None:
        """Sets the product name of each line, in line order."""

    def price_lines(self, order_id: str, totals: Sequence[Money], now: datetime) -> None:
        """Sets each line's total, in line order, and the order total to their sum."""

    def set_charge(self, order_id: str, charge_id: str, now: datetime) -> None:
        """Records the order's charge id."""

    def set_state(
        self, order_id: str, state: OrderState, now: datetime, failure: OrderFailure | None = None
    ) -> None:
        """Moves the order to ``state``, recording ``failure`` when given."""

    def add_idempotency_key(self, key: str, record: IdempotencyRecord) -> None:
        """Remembers which request and order a key belongs to."""

    def idempotency_key(self, key: str) -> IdempotencyRecord | None:
        """What a key was first used for, if it was used."""

    def append_event(
        self, order_id: str, event_type: OrderEventType, now: datetime, detail: str = ""
    ) -> None:
        """Appends an event to the global log, numbered on from the last one, no gaps."""

    def events(
        self, after: int, order_id: str = "", through: int | None = None, limit: int | None = None
    ) -> list[OrderEvent]:
        """Events with after < sequence <= through, of one order or ("") all, in order."""

    def last_sequence(self) -> int:
        """The sequence of the newest event, 0 when the log is empty."""


class OrderStorage(Store[OrderRecords], Protocol):
    """Where orders, their events, idempotency keys and sagas live (``Store.run`` runs a
    unit of work on OrderRecords); followers of the event log are woken after commits."""

    poll_interval_s: float | None
    """How often followers of the event log re-read it although nobody woke them: set
    when other processes may append (a shared table); None when only this one can."""

    def on_events(self, listener: Callable[[], None]) -> None:
        """Calls ``listener`` (on the event loop) after each commit that appended events."""
        ...


class EventFollowers:
    """What both order stores share: the listeners ``on_events`` adds, called once a unit
    that appended events has committed (so a follower re-reads the log only once the new
    events are visible)."""

    def __init__(self) -> None:
        self._followers: list[Callable[[], None]] = []

    def on_events(self, listener: Callable[[], None]) -> None:
        """Calls ``listener`` (on the event loop) after each commit that appended events."""
        self._followers.append(listener)

    def wake_if_appended(self, appended_events: bool) -> None:
        """Calls every listener when the committed unit appended events."""
        if appended_events:
            for follower in self._followers:
                follower()
