"""The saga log: each order's saga status and the downstream effects still to undo.

It is what lets a restarted process finish a saga: the log says which step was running
and which reservations and charges exist, and compensation marks each effect as undone
right after undoing it. Forward steps are never re-run from the log.

This module holds the log's types and its SQLite rows; the DynamoDB store keeps the same
log in each order's saga item (dynamodb.py).
"""

from __future__ import annotations

import enum
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from meshkit.errors import ERROR_KINDS, DomainError, FieldViolation
from services.orders.domain import OrderFailure, SagaStep


class SagaStatus(enum.Enum):
    """Where a saga is."""

    RUNNING = "RUNNING"  # forward steps in progress
    COMPENSATING = "COMPENSATING"  # a step failed; undoing effects, then FAILED
    CANCELLING = "CANCELLING"  # a confirmed order is being cancelled; then CANCELLED
    DONE = "DONE"


class EffectKind(enum.Enum):
    """A downstream effect that compensation undoes."""

    RESERVATION = "RESERVATION"  # undone by releasing the reservation key
    CHARGE = "CHARGE"  # undone by refunding the charge made under the idempotency key


class EffectState(enum.Enum):
    """What the saga knows about an effect."""

    IN_DOUBT = "IN_DOUBT"  # requested, outcome unknown (the call raised or the process died)
    DONE = "DONE"
    COMPENSATED = "COMPENSATED"


@dataclass(frozen=True)
class Effect:
    """One logged effect; ``target`` is the reservation key or the charge's idempotency key."""

    effect_id: int
    kind: EffectKind
    target: str
    sku: str
    state: EffectState


@dataclass(frozen=True)
class SagaRecord:
    """One order's saga; ``error`` is set once a step failed."""

    order_id: str
    status: SagaStatus
    step: SagaStep
    error: DomainError | None
    cancel_reason: str

    @property
    def failure(self) -> OrderFailure | None:
        """The OrderFailure the order gets when the saga ends failed."""
        if self.error is None:
            return None
        return OrderFailure(self.step.value, self.error.reason, self.error.message)


class SqliteSagaLog:
    """The SagaLog (records.py) as rows inside one open transaction of the SQLite store."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def start(self, order_id: str) -> None:
        """Logs a new saga at its first step."""
        self._connection.execute(
            "INSERT INTO sagas (order_id, status, step) VALUES (?, ?, ?)",
            (order_id, SagaStatus.RUNNING.value, SagaStep.LOOKUP.value),
        )

    def get(self, order_id: str) -> SagaRecord | None:
        """The saga of an order, if it has one."""
        row = self._connection.execute(
            "SELECT * FROM sagas WHERE order_id = ?", (order_id,)
        ).fetchone()
        if row is None:
            return None
        return SagaRecord(
            order_id=row["order_id"],
            status=SagaStatus(row["status"]),
            step=SagaStep(row["step"]),
            error=decode_error(row["error"]) if row["error"] else None,
            cancel_reason=row["cancel_reason"],
        )

    def unfinished(self) -> list[str]:
        """Order ids of every saga that is not DONE, oldest first."""
        rows = self._connection.execute(
            "SELECT order_id FROM sagas WHERE status != ? ORDER BY rowid",
            (SagaStatus.DONE.value,),
        )
        return [row["order_id"] for row in rows]

    def advance(self, order_id: str, step: SagaStep) -> None:
        """Records that the saga moved on to ``step``."""
        self._set(order_id, "step", step.value)

    def fail(self, order_id: str, error: DomainError) -> None:
        """Records the error of the current step; compensation starts."""
        self._set(order_id, "error", encode_error(error))
        self._set(order_id, "status", SagaStatus.COMPENSATING.value)

    def cancel(self, order_id: str, reason: str) -> None:
        """Records a cancellation of a finished saga; compensation starts."""
        self._set(order_id, "cancel_reason", reason)
        self._set(order_id, "status", SagaStatus.CANCELLING.value)

    def finish(self, order_id: str) -> None:
        """Records that nothing is left to do."""
        self._set(order_id, "status", SagaStatus.DONE.value)

    def add_effects(
        self,
        order_id: str,
        kind: EffectKind,
        targets: Sequence[tuple[str, str]],
        state: EffectState,
    ) -> None:
        """Logs effects, given as (target, sku) pairs, in the order they are made."""
        self._connection.executemany(
            "INSERT INTO saga_effects (order_id, kind, target, sku, state) VALUES (?, ?, ?, ?, ?)",
            [(order_id, kind.value, target, sku, state.value) for target, sku in targets],
        )

    def settle_doubts(self, order_id: str, made: Sequence[str], not_made: Sequence[str]) -> None:
        """Resolves in-doubt effects by target: ``made`` are DONE, ``not_made`` are dropped."""
        self._connection.executemany(
            "UPDATE saga_effects SET state = ? WHERE order_id = ? AND target = ?",
            [(EffectState.DONE.value, order_id, target) for target in made],
        )
        self._connection.executemany(
            "DELETE FROM saga_effects WHERE order_id = ? AND target = ?",
            [(order_id, target) for target in not_made],
        )

    def to_undo(self, order_id: str) -> list[Effect]:
        """Effects not yet compensated, newest first (the order to undo them in)."""
        rows = self._connection.execute(
            "SELECT * FROM saga_effects WHERE order_id = ? AND state != ? ORDER BY effect_id DESC",
            (order_id, EffectState.COMPENSATED.value),
        )
        return [
            Effect(
                effect_id=row["effect_id"],
                kind=EffectKind(row["kind"]),
                target=row["target"],
                sku=row["sku"],
                state=EffectState(row["state"]),
            )
            for row in rows
        ]

    def mark_compensated(self, order_id: str, effect_id: int) -> None:
        """Records that an effect was undone."""
        self._connection.execute(
            "UPDATE saga_effects SET state = ? WHERE order_id = ? AND effect_id = ?",
            (EffectState.COMPENSATED.value, order_id, effect_id),
        )

    def _set(self, order_id: str, column: str, value: str) -> None:
        # ``column`` is always a constant of this class, never caller input.
        self._connection.execute(
            f"UPDATE sagas SET {column} = ? WHERE order_id = ?", (value, order_id)
        )


def encode_error(error: DomainError) -> str:
    """Serialises a DomainError so a replay can raise an equal one."""
    return json.dumps(
        {
            "kind": error.kind,
            "message": error.message,
            "reason": error.reason,
            "metadata": dict(error.metadata),
            "violations": [[v.field, v.description] for v in error.violations],
            "resource_type": error.resource_type,
            "resource_name": error.resource_name,
            "retry_after_s": error.retry_after_s,
        }
    )


def decode_error(text: str) -> DomainError:
    """Rebuilds the DomainError that encode_error wrote, of the same class."""
    data = json.loads(text)
    return ERROR_KINDS[data["kind"]](
        message=data["message"],
        reason=data["reason"],
        metadata=data["metadata"],
        violations=tuple(FieldViolation(*pair) for pair in data["violations"]),
        resource_type=data["resource_type"],
        resource_name=data["resource_name"],
        retry_after_s=data["retry_after_s"],
    )
