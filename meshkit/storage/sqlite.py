"""One SQLite connection with the project's durability settings, shared by every store.

Each store owns one ``Database``. Writes run in ``BEGIN IMMEDIATE`` transactions so a
mutation takes the write lock before it reads what it checks, and either commits whole or
rolls back whole. WAL with ``synchronous=NORMAL`` keeps commits cheap while a crash can
lose at most the last commits, never corrupt the file.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from os import PathLike

SCHEMA_VERSION = 1

Seeder = Callable[[sqlite3.Connection], None]
"""Fills a freshly created database, inside the transaction that created its schema."""


class Database:
    """A connection that creates its schema (and seeds it) only when the file is new.

    The schema version lives in ``PRAGMA user_version``, so re-opening an existing file
    never re-seeds it. A lock serialises transactions, which makes one ``Database`` safe to
    share between threads as well as between coroutines of one event loop.
    """

    def __init__(
        self,
        path: str | PathLike[str],
        schema: Sequence[str],
        seed: Seeder | None = None,
    ) -> None:
        self._connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._connection.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute("PRAGMA synchronous=NORMAL")
        self._connection.execute("PRAGMA foreign_keys=ON")
        with self.transaction() as connection:
            version: int = connection.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                for statement in schema:
                    connection.execute(statement)
                if seed is not None:
                    seed(connection)
                connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[sqlite3.Connection]:
        """Runs the block in one transaction: committed on success, rolled back on error.

        ``write=False`` starts a deferred transaction, a consistent snapshot for reads.
        """
        with self._lock:
            self._connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield self._connection
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
            self._connection.execute("COMMIT")

    def close(self) -> None:
        """Closes the connection; the object is unusable afterwards."""
        with self._lock:
            self._connection.close()


def encode_time(moment: datetime) -> str:
    """Stores an aware datetime as ISO-8601 text, which sorts and reads well."""
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
    return moment.isoformat()


def decode_time(text: str) -> datetime:
    """Reverses encode_time."""
    return datetime.fromisoformat(text)
