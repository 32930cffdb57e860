"""SQLite under the stateful services' stores: one connection with the project's durability
settings, and the generic store that runs units of work on it.

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
from os import PathLike
from typing import Generic, TypeVar

R = TypeVar("R")
T = TypeVar("T")

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


class SqliteStore(Generic[R]):
    """A ``Store`` of ``R`` records, each unit of work one transaction of a Database.

    Units run inline on the caller's thread: a SQLite call takes microseconds, less than
    handing it to a thread would. ``records`` builds a service's records over the open
    transaction's connection.
    """

    def __init__(self, database: Database, records: Callable[[sqlite3.Connection], R]) -> None:
        self._database = database
        self._records = records

    async def run(self, work: Callable[[R], T], *, write: bool = True) -> T:
        """Runs ``work`` in one transaction, committed only if it returns."""
        with self._database.transaction(write=write) as connection:
            records = self._records(connection)
            result = work(records)
        self.committed(records)
        return result

    def committed(self, records: R) -> None:
        """Called after each unit's transaction ended well; a subclass may react to what
        the unit wrote (orders wakes the followers of its event log)."""

    def close(self) -> None:
        """Closes the database."""
        self._database.close()
