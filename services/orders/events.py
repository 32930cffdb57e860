"""Following the order event log: replay from a sequence, then live events as they land.

The log itself is the only source: a follower reads events by sequence from the store and
is merely woken up after each commit that appended events. Replay and live delivery are
therefore the same query, which is what rules out gaps and duplicates between them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

from services.orders.domain import OrderEvent
from services.orders.store import OrderStore

PAGE_SIZE = 500  # events read per query while catching up


class EventFeed:
    """Hands out followers of one store's event log."""

    def __init__(self, store: OrderStore) -> None:
        self._store = store
        self._wakeups: set[asyncio.Event] = set()
        store.on_events(self._wake)

    async def follow(
        self, after_sequence: int, order_id: str = ""
    ) -> AsyncGenerator[OrderEvent, None]:
        """Events after ``after_sequence`` (of one order, or all for ""), forever.

        Stops only when the consumer stops iterating; nothing is left behind then.
        """
        wakeup = asyncio.Event()
        self._wakeups.add(wakeup)
        try:
            position = after_sequence
            while True:
                # Cleared before reading, so a commit during the read still wakes us.
                wakeup.clear()
                with self._store.transaction(write=False) as records:
                    head = records.last_sequence()
                while position < head:
                    with self._store.transaction(write=False) as records:
                        page = records.events(position, order_id, through=head, limit=PAGE_SIZE)
                    # Yield outside the transaction: the consumer may take its time.
                    for event in page:
                        yield event
                    position = page[-1].sequence if len(page) == PAGE_SIZE else head
                await wakeup.wait()
        finally:
            self._wakeups.discard(wakeup)

    def _wake(self) -> None:
        for wakeup in self._wakeups:
            wakeup.set()
