"""Orders, the event log, idempotency keys and the saga log in the service's DynamoDB table.

Items (the storage stack's pk/sk contract). An order is two items, so that no step of the
saga writes more than a handful of items in its transaction (the limit is 100, and an
order may have 100 lines):

- ``order#<id>`` / ``meta``: the order, its lines in a list;
- ``order#<id>`` / ``saga``: status, step, error, cancel reason, and the effects to undo
  in a list (each with a per-order ``effect_id``);
- ``order#<id>`` / ``event#<sequence>``: the order's events, for one order's feed;
- ``events`` / ``event#<sequence>``: every event, the global log;
- ``events`` / ``head``: ``last``, the newest sequence. Each unit that appends events
  rewrites it on the condition that it still holds what the unit read, so sequences are
  gapless and strictly increasing whoever appends;
- ``idem#<key>`` / ``meta``: the request fingerprint and the order a key created;
- ``sagas#unfinished`` / ``<start time>#<order id>``: one item per saga not DONE, so a
  recovery sweep lists them oldest first without a scan.

Sequences are zero-padded to 12 digits so ``sk`` order is numeric order.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from meshkit.errors import DomainError
from meshkit.storage.dynamodb import META, DynamoStore, Item, Table, UnitOfWork, number
from meshkit.storage.times import encode_time
from services.kernel.money import Money
from services.orders.model import (
    Order,
    OrderEvent,
    OrderEventType,
    OrderFailure,
    OrderState,
    SagaStep,
)
from services.orders.records import EventFollowers, IdempotencyRecord, event_of, order_of
from services.orders.saga_log import (
    Effect,
    EffectKind,
    EffectState,
    SagaRecord,
    SagaStatus,
    decode_error,
    encode_error,
)

T = TypeVar("T")

EVENTS = "events"
HEAD = "head"
SAGA = "saga"
UNFINISHED = "sagas#unfinished"
POLL_INTERVAL_S = 1.0
"""How often an event follower re-reads the log unwoken: during a rolling deployment
an old and a new task may both append for a moment."""


def _order_pk(order_id: str) -> str:
    return f"order#{order_id}"


def _event_sk(sequence: int) -> str:
    return f"event#{sequence:012d}"


class DynamoOrderStore(EventFollowers, DynamoStore["DynamoOrderRecords"]):
    """The orders store on one table; units of work run on the store threads.

    Write units of this process take turns (as SQLite's do): they all append to the one
    event log, and taking turns here is cheaper than conflicting at the table. That bounds
    one task to roughly one write per table round trip, which is what a single orders
    task (the manifest's ``single_task``) needs.
    """

    poll_interval_s: float | None = POLL_INTERVAL_S

    def __init__(self, table: Table) -> None:
        EventFollowers.__init__(self)
        DynamoStore.__init__(self, table, DynamoOrderRecords, one_writer=True)

    def committed(self, records: DynamoOrderRecords) -> None:
        self.wake_if_appended(records.appended_events)


class DynamoOrderRecords:
    """OrderRecords over one unit of work."""

    def __init__(self, unit: UnitOfWork) -> None:
        self._unit = unit
        self._saga = DynamoSagaLog(unit)
        self.appended_events = False

    @property
    def saga(self) -> DynamoSagaLog:
        return self._saga

    def add_order(self, order: Order) -> None:
        failure = order.failure
        self._unit.put(
            {
                "pk": _order_pk(order.order_id),
                "sk": META,
                "customer_id": order.customer_id,
                "state": order.state.value,
                "total_minor": order.total.amount_minor,
                "currency": order.total.currency,
                "charge_id": order.charge_id,
                "failure_step": failure.step if failure else "",
                "failure_reason": failure.reason if failure else "",
                "failure_message": failure.message if failure else "",
                "create_time": encode_time(order.create_time),
                "update_time": encode_time(order.update_time),
                "lines": [
                    {
                        "sku": line.sku,
                        "name": line.name,
                        "quantity": line.quantity,
                        "total_minor": line.total.amount_minor,
                        "currency": line.total.currency,
                        "reservation_key": line.reservation_key,
                    }
                    for line in order.lines
                ],
            }
        )

    def order(self, order_id: str) -> Order | None:
        item = self._unit.get(_order_pk(order_id))
        if item is None:
            return None
        return order_of({**item, "order_id": order_id}, item["lines"])

    def name_lines(self, order_id: str, names: Sequence[str], now: datetime) -> None:
        lines = self._lines(order_id)
        for line, name in zip(lines, names, strict=False):
            line["name"] = name
        self._update(order_id, now, lines=lines)

    def price_lines(self, order_id: str, totals: Sequence[Money], now: datetime) -> None:
        lines = self._lines(order_id)
        for line, total in zip(lines, totals, strict=False):
            line["total_minor"], line["currency"] = total.amount_minor, total.currency
        total = Money.sum_of(totals, totals[0].currency)
        self._update(
            order_id, now, lines=lines, total_minor=total.amount_minor, currency=total.currency
        )

    def set_charge(self, order_id: str, charge_id: str, now: datetime) -> None:
        self._update(order_id, now, charge_id=charge_id)

    def set_state(
        self, order_id: str, state: OrderState, now: datetime, failure: OrderFailure | None = None
    ) -> None:
        self._update(
            order_id,
            now,
            state=state.value,
            failure_step=failure.step if failure else "",
            failure_reason=failure.reason if failure else "",
            failure_message=failure.message if failure else "",
        )

    def add_idempotency_key(self, key: str, record: IdempotencyRecord) -> None:
        self._unit.put(
            {
                "pk": f"idem#{key}",
                "sk": META,
                "fingerprint": record.fingerprint,
                "order_id": record.order_id,
            }
        )

    def idempotency_key(self, key: str) -> IdempotencyRecord | None:
        item = self._unit.get(f"idem#{key}")
        return None if item is None else IdempotencyRecord(item["fingerprint"], item["order_id"])

    def append_event(
        self, order_id: str, event_type: OrderEventType, now: datetime, detail: str = ""
    ) -> None:
        sequence = self.last_sequence() + 1
        # Conditional on the head the unit read: a concurrent append makes this unit rerun.
        self._unit.guard(EVENTS, HEAD, "last")
        self._unit.put({"pk": EVENTS, "sk": HEAD, "last": sequence}, if_absent=False)
        event = {
            "order_id": order_id,
            "type": event_type.value,
            "detail": detail,
            "create_time": encode_time(now),
        }
        self._unit.put({"pk": EVENTS, "sk": _event_sk(sequence), **event})
        self._unit.put({"pk": _order_pk(order_id), "sk": _event_sk(sequence), **event})
        self.appended_events = True

    def events(
        self, after: int, order_id: str = "", through: int | None = None, limit: int | None = None
    ) -> list[OrderEvent]:
        last = self.last_sequence() if through is None else through
        if last <= after:
            return []
        items = self._unit.query(
            _order_pk(order_id) if order_id else EVENTS,
            after=_event_sk(after),
            through=_event_sk(last),
            limit=limit,
        )
        return [event_of(int(item["sk"].removeprefix("event#")), item) for item in items]

    def last_sequence(self) -> int:
        head = self._unit.get(EVENTS, HEAD)
        return 0 if head is None else number(head["last"])

    def _lines(self, order_id: str) -> list[dict[str, Any]]:
        item = self._unit.get(_order_pk(order_id))
        if item is None:
            raise LookupError(f"order {order_id} vanished from the store")
        return [dict(line) for line in item["lines"]]

    def _update(self, order_id: str, now: datetime, **values: Any) -> None:
        self._unit.set(_order_pk(order_id), META, {**values, "update_time": encode_time(now)})


class DynamoSagaLog:
    """The SagaLog (records.py) in each order's saga item."""

    def __init__(self, unit: UnitOfWork) -> None:
        self._unit = unit

    def start(self, order_id: str) -> None:
        since = f"{time.time_ns():020d}#{order_id}"
        self._unit.put(
            {
                "pk": _order_pk(order_id),
                "sk": SAGA,
                "status": SagaStatus.RUNNING.value,
                "step": SagaStep.LOOKUP.value,
                "error": "",
                "cancel_reason": "",
                "unfinished": since,
                "effects": [],
                "next_effect": 1,
            }
        )
        self._unit.put({"pk": UNFINISHED, "sk": since, "order_id": order_id})

    def get(self, order_id: str) -> SagaRecord | None:
        item = self._unit.get(_order_pk(order_id), SAGA)
        if item is None:
            return None
        return SagaRecord(
            order_id=order_id,
            status=SagaStatus(item["status"]),
            step=SagaStep(item["step"]),
            error=decode_error(item["error"]) if item["error"] else None,
            cancel_reason=item["cancel_reason"],
        )

    def unfinished(self) -> list[str]:
        return [item["order_id"] for item in self._unit.query(UNFINISHED)]

    def advance(self, order_id: str, step: SagaStep) -> None:
        self._set(order_id, step=step.value)

    def fail(self, order_id: str, error: DomainError) -> None:
        self._set(order_id, error=encode_error(error), status=SagaStatus.COMPENSATING.value)

    def cancel(self, order_id: str, reason: str) -> None:
        self._set(order_id, cancel_reason=reason, status=SagaStatus.CANCELLING.value)
        # Unfinished again: a sweep must find it if this process dies mid-cancellation.
        since = self._item(order_id)["unfinished"]
        self._unit.put({"pk": UNFINISHED, "sk": since, "order_id": order_id}, if_absent=False)

    def finish(self, order_id: str) -> None:
        self._set(order_id, status=SagaStatus.DONE.value)
        self._unit.delete(UNFINISHED, self._item(order_id)["unfinished"])

    def add_effects(
        self,
        order_id: str,
        kind: EffectKind,
        targets: Sequence[tuple[str, str]],
        state: EffectState,
    ) -> None:
        item = self._item(order_id)
        effects = self._effects(item)
        known = {(effect["kind"], effect["target"]) for effect in effects}
        next_id = number(item["next_effect"])
        for target, sku in targets:
            if (kind.value, target) in known:
                continue  # one effect per (kind, target), as SQLite's UNIQUE keeps it
            effects.append(
                {
                    "id": next_id,
                    "kind": kind.value,
                    "target": target,
                    "sku": sku,
                    "state": state.value,
                }
            )
            next_id += 1
        self._set(order_id, effects=effects, next_effect=next_id)

    def settle_doubts(self, order_id: str, made: Sequence[str], not_made: Sequence[str]) -> None:
        done, dropped = set(made), set(not_made)
        effects = []
        for effect in self._effects(self._item(order_id)):
            if effect["target"] in dropped:
                continue
            if effect["target"] in done:
                effect["state"] = EffectState.DONE.value
            effects.append(effect)
        self._set(order_id, effects=effects)

    def to_undo(self, order_id: str) -> list[Effect]:
        effects = [
            Effect(
                effect_id=number(effect["id"]),
                kind=EffectKind(effect["kind"]),
                target=effect["target"],
                sku=effect["sku"],
                state=EffectState(effect["state"]),
            )
            for effect in self._effects(self._item(order_id))
        ]
        undo = [effect for effect in effects if effect.state is not EffectState.COMPENSATED]
        return sorted(undo, key=lambda effect: effect.effect_id, reverse=True)

    def mark_compensated(self, order_id: str, effect_id: int) -> None:
        effects = self._effects(self._item(order_id))
        for effect in effects:
            if number(effect["id"]) == effect_id:
                effect["state"] = EffectState.COMPENSATED.value
        self._set(order_id, effects=effects)

    def _item(self, order_id: str) -> Item:
        item = self._unit.get(_order_pk(order_id), SAGA)
        if item is None:
            raise LookupError(f"order {order_id} has no saga")
        return item

    @staticmethod
    def _effects(item: Item) -> list[dict[str, Any]]:
        return [dict(effect) for effect in item["effects"]]

    def _set(self, order_id: str, **values: Any) -> None:
        self._unit.set(_order_pk(order_id), SAGA, values)
