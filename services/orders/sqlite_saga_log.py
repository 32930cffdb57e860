"""The saga log (records.SagaLog) as rows of the orders SQLite database."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from meshkit.errors import DomainError
from services.orders.model import SagaStep
from services.orders.saga_log import (
    Effect,
    EffectKind,
    EffectState,
    SagaRecord,
    SagaStatus,
    decode_error,
    encode_error,
)


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
