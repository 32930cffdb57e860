"""SQLite persistence for orders, their event log, idempotency keys and saga log."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from os import PathLike
from typing import TypeVar

from meshkit.storage.sqlite import Database, SqliteStore
from meshkit.storage.times import encode_time
from services.kernel.money import Money
from services.orders.model import (
    Order,
    OrderEvent,
    OrderEventType,
    OrderFailure,
    OrderState,
)
from services.orders.records import EventFollowers, IdempotencyRecord, event_of, order_of
from services.orders.sqlite_saga_log import SqliteSagaLog
from services.orders.sqlite_schema import SCHEMA

T = TypeVar("T")


class SqliteOrderStore(EventFollowers, SqliteStore["SqliteOrderRecords"]):
    """Orders in one SQLite file (":memory:" for tests); only this process writes it."""

    poll_interval_s: float | None = None

    def __init__(self, path: str | PathLike[str]) -> None:
        EventFollowers.__init__(self)
        SqliteStore.__init__(self, Database(path, SCHEMA), SqliteOrderRecords)

    def committed(self, records: SqliteOrderRecords) -> None:
        self.wake_if_appended(records.appended_events)


class SqliteOrderRecords:
    """OrderRecords inside one open transaction."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection
        self._saga = SqliteSagaLog(connection)
        self.appended_events = False

    @property
    def saga(self) -> SqliteSagaLog:
        """The saga log, in the same transaction."""
        return self._saga

    def add_order(self, order: Order) -> None:
        """Stores a new order with its lines."""
        self._connection.execute(
            "INSERT INTO orders (order_id, customer_id, state, total_minor, currency,"
            " create_time, update_time) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                order.order_id,
                order.customer_id,
                order.state.value,
                order.total.amount_minor,
                order.total.currency,
                encode_time(order.create_time),
                encode_time(order.update_time),
            ),
        )
        self._connection.executemany(
            "INSERT INTO order_lines VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    order.order_id,
                    index,
                    line.sku,
                    line.name,
                    line.quantity,
                    line.total.amount_minor,
                    line.total.currency,
                    line.reservation_key,
                )
                for index, line in enumerate(order.lines)
            ],
        )

    def order(self, order_id: str) -> Order | None:
        """The order with this id, if any."""
        row = self._connection.execute(
            "SELECT * FROM orders WHERE order_id = ?", (order_id,)
        ).fetchone()
        if row is None:
            return None
        lines = self._connection.execute(
            "SELECT * FROM order_lines WHERE order_id = ? ORDER BY line_index", (order_id,)
        )
        return order_of(dict(row), map(dict, lines))

    def name_lines(self, order_id: str, names: Sequence[str], now: datetime) -> None:
        """Sets the product name of each line, in line order."""
        self._connection.executemany(
            "UPDATE order_lines SET name = ? WHERE order_id = ? AND line_index = ?",
            [(name, order_id, index) for index, name in enumerate(names)],
        )
        self._touch(order_id, now)

    def price_lines(self, order_id: str, totals: Sequence[Money], now: datetime) -> None:
        """Sets each line's total, in line order, and the order total to their sum."""
        self._connection.executemany(
            "UPDATE order_lines SET total_minor = ?, currency = ?"
            " WHERE order_id = ? AND line_index = ?",
            [(t.amount_minor, t.currency, order_id, index) for index, t in enumerate(totals)],
        )
        total = Money.sum_of(totals, totals[0].currency)
        self._connection.execute(
            "UPDATE orders SET total_minor = ?, currency = ? WHERE order_id = ?",
            (total.amount_minor, total.currency, order_id),
        )
        self._touch(order_id, now)

    def set_charge(self, order_id: str, charge_id: str, now: datetime) -> None:
        """Records the order's charge id."""
        self._connection.execute(
            "UPDATE orders SET charge_id = ? WHERE order_id = ?", (charge_id, order_id)
        )
        self._touch(order_id, now)

    def set_state(
        self, order_id: str, state: OrderState, now: datetime, failure: OrderFailure | None = None
    ) -> None:
        """Moves the order to ``state``, recording ``failure`` when given."""
        self._connection.execute(
            "UPDATE orders SET state = ?, failure_step = ?, failure_reason = ?,"
            " failure_message = ? WHERE order_id = ?",
            (
                state.value,
                failure.step if failure else "",
                failure.reason if failure else "",
                failure.message if failure else "",
                order_id,
            ),
        )
        self._touch(order_id, now)

    def add_idempotency_key(self, key: str, record: IdempotencyRecord) -> None:
        """Remembers which request and order a key belongs to."""
        self._connection.execute(
            "INSERT INTO idempotency_keys VALUES (?, ?, ?)",
            (key, record.fingerprint, record.order_id),
        )

    def idempotency_key(self, key: str) -> IdempotencyRecord | None:
        """What a key was first used for, if it was used."""
        row = self._connection.execute(
            "SELECT fingerprint, order_id FROM idempotency_keys WHERE idempotency_key = ?", (key,)
        ).fetchone()
        return None if row is None else IdempotencyRecord(row["fingerprint"], row["order_id"])

    def append_event(
        self, order_id: str, event_type: OrderEventType, now: datetime, detail: str = ""
    ) -> None:
        """Appends an event to the global log."""
        self._connection.execute(
            "INSERT INTO order_events (order_id, type, detail, create_time) VALUES (?, ?, ?, ?)",
            (order_id, event_type.value, detail, encode_time(now)),
        )
        self.appended_events = True

    def events(
        self, after: int, order_id: str = "", through: int | None = None, limit: int | None = None
    ) -> list[OrderEvent]:
        """Events with after < sequence <= through, of one order or ("") all, in order."""
        rows = self._connection.execute(
            "SELECT * FROM order_events WHERE sequence > ? AND sequence <= ?"
            " AND (? = '' OR order_id = ?) ORDER BY sequence LIMIT ?",
            (
                after,
                self.last_sequence() if through is None else through,
                order_id,
                order_id,
                -1 if limit is None else limit,
            ),
        )
        return [event_of(row["sequence"], dict(row)) for row in rows]

    def last_sequence(self) -> int:
        """The sequence of the newest event, 0 when the log is empty."""
        row = self._connection.execute("SELECT MAX(sequence) FROM order_events").fetchone()
        return int(row[0] or 0)

    def _touch(self, order_id: str, now: datetime) -> None:
        self._connection.execute(
            "UPDATE orders SET update_time = ? WHERE order_id = ?", (encode_time(now), order_id)
        )
