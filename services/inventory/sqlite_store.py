"""SQLite persistence for stock levels and reservations."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from os import PathLike

from meshkit.storage.sqlite import Database, SqliteStore
from meshkit.storage.times import decode_time, encode_time
from services.inventory.domain import InventoryRecords, Reservation, ReservationState, Stock
from services.kernel.seed import seed_products

SCHEMA = (
    """
    CREATE TABLE stock (
        sku TEXT PRIMARY KEY,
        available INTEGER NOT NULL CHECK (available >= 0),
        reserved INTEGER NOT NULL CHECK (reserved >= 0)
    )
    """,
    """
    CREATE TABLE reservations (
        reservation_key TEXT PRIMARY KEY,
        sku TEXT NOT NULL REFERENCES stock (sku),
        quantity INTEGER NOT NULL CHECK (quantity > 0),
        state TEXT NOT NULL,
        create_time TEXT NOT NULL
    )
    """,
)


class SqliteInventoryStore(SqliteStore[InventoryRecords]):
    """Stock and reservations in one SQLite file (":memory:" for tests).

    A new file is seeded with ``initial_stock`` (SKU -> units, by default the seeded
    products' stock); an existing file is opened as it is.
    """

    def __init__(
        self, path: str | PathLike[str], initial_stock: Mapping[str, int] | None = None
    ) -> None:
        if initial_stock is None:
            initial_stock = {product.sku: product.initial_stock for product in seed_products()}
        stock = dict(initial_stock)

        def seed(connection: sqlite3.Connection) -> None:
            connection.executemany("INSERT INTO stock VALUES (?, ?, 0)", stock.items())

        super().__init__(Database(path, SCHEMA, seed), SqliteInventoryRecords)


class SqliteInventoryRecords:
    """Reads and writes inside one open transaction."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def stock(self, sku: str) -> Stock | None:
        """The stock row of ``sku``, if the SKU is stocked."""
        row = self._connection.execute(
            "SELECT sku, available, reserved FROM stock WHERE sku = ?", (sku,)
        ).fetchone()
        return None if row is None else Stock(row["sku"], row["available"], row["reserved"])

    def move_stock(self, sku: str, available_delta: int, reserved_delta: int) -> Stock:
        """Adds the deltas to a stocked SKU's counters and returns the new stock."""
        row = self._connection.execute(
            "UPDATE stock SET available = available + ?, reserved = reserved + ?"
            " WHERE sku = ? RETURNING available, reserved",
            (available_delta, reserved_delta, sku),
        ).fetchone()
        return Stock(sku, row["available"], row["reserved"])

    def reservation(self, reservation_key: str) -> Reservation | None:
        """The reservation stored under this key, if any."""
        row = self._connection.execute(
            "SELECT * FROM reservations WHERE reservation_key = ?", (reservation_key,)
        ).fetchone()
        if row is None:
            return None
        return Reservation(
            reservation_key=row["reservation_key"],
            sku=row["sku"],
            quantity=row["quantity"],
            state=ReservationState(row["state"]),
            create_time=decode_time(row["create_time"]),
        )

    def add_reservation(self, reservation: Reservation) -> None:
        """Stores a new reservation."""
        self._connection.execute(
            "INSERT INTO reservations VALUES (?, ?, ?, ?, ?)",
            (
                reservation.reservation_key,
                reservation.sku,
                reservation.quantity,
                reservation.state.value,
                encode_time(reservation.create_time),
            ),
        )

    def set_state(self, reservation_key: str, state: ReservationState) -> None:
        """Changes a stored reservation's state."""
        self._connection.execute(
            "UPDATE reservations SET state = ? WHERE reservation_key = ?",
            (state.value, reservation_key),
        )
