"""SQLite persistence for charges."""

from __future__ import annotations

import sqlite3
from os import PathLike

from meshkit.storage.sqlite import Database, SqliteStore
from meshkit.storage.times import decode_time, encode_time
from services.kernel.money import Money
from services.payments.domain import ChargeRecord, ChargeRecords, ChargeState

SCHEMA = (
    """
    CREATE TABLE charges (
        charge_id TEXT PRIMARY KEY,
        idempotency_key TEXT NOT NULL UNIQUE,
        amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
        currency TEXT NOT NULL,
        reference TEXT NOT NULL,
        state TEXT NOT NULL,
        create_time TEXT NOT NULL,
        refund_reason TEXT NOT NULL DEFAULT ''
    )
    """,
)


class SqlitePaymentsStore(SqliteStore[ChargeRecords]):
    """Charges in one SQLite file (":memory:" for tests)."""

    def __init__(self, path: str | PathLike[str]) -> None:
        super().__init__(Database(path, SCHEMA), SqliteChargeRecords)


class SqliteChargeRecords:
    """Reads and writes inside one open transaction."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def by_id(self, charge_id: str) -> ChargeRecord | None:
        """The charge with this id, if any."""
        return self._one("charge_id", charge_id)

    def by_key(self, idempotency_key: str) -> ChargeRecord | None:
        """The charge made under this idempotency key, if any."""
        return self._one("idempotency_key", idempotency_key)

    def add(self, charge: ChargeRecord) -> None:
        """Stores a new charge."""
        self._connection.execute(
            "INSERT INTO charges (charge_id, idempotency_key, amount_minor, currency,"
            " reference, state, create_time) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                charge.charge_id,
                charge.idempotency_key,
                charge.amount.amount_minor,
                charge.amount.currency,
                charge.reference,
                charge.state.value,
                encode_time(charge.create_time),
            ),
        )

    def mark_refunded(self, charge_id: str, reason: str) -> None:
        """Records that a charge was refunded, and why."""
        self._connection.execute(
            "UPDATE charges SET state = ?, refund_reason = ? WHERE charge_id = ?",
            (ChargeState.REFUNDED.value, reason, charge_id),
        )

    def _one(self, column: str, value: str) -> ChargeRecord | None:
        # ``column`` is one of two constants above, never caller input.
        row = self._connection.execute(
            f"SELECT * FROM charges WHERE {column} = ?", (value,)
        ).fetchone()
        if row is None:
            return None
        return ChargeRecord(
            charge_id=row["charge_id"],
            idempotency_key=row["idempotency_key"],
            amount=Money(row["amount_minor"], row["currency"]),
            reference=row["reference"],
            state=ChargeState(row["state"]),
            create_time=decode_time(row["create_time"]),
        )
