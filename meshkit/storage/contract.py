"""The one contract of every stateful service's store: run a unit of work on its records.

A service's domain declares its records (a Protocol of reads and writes) and asks for a
``Store`` of them; the SQLite store (``sqlite.py``) and the DynamoDB store
(``dynamodb.py``) implement it, and the service's own adapters add only its tables or items.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

R_co = TypeVar("R_co", covariant=True)
T = TypeVar("T")


class Store(Protocol[R_co]):
    """Where a service's records live: a SQLite file locally, a DynamoDB table on AWS."""

    async def run(self, work: Callable[[R_co], T], *, write: bool = True) -> T:
        """Runs ``work`` on the records of one unit of work and returns its result.

        What ``work`` writes commits all together, or (when it raises) not at all. A store
        may run ``work`` again after a write conflict, so it must read and write only
        through its records. ``write=False`` reads a consistent view and commits nothing.
        A store whose calls wait on the network runs ``work`` off the event loop.
        """
        ...

    def close(self) -> None:
        """Releases the connection."""
        ...
