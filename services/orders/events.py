"""Following the order event log: replay from a sequence, then live events as they land.

The log itself is the only source: a follower reads events by sequence from the store and
is merely woken up after each commit that appended events. Replay and live delivery are
therefore the same query, which is what rules out gaps and duplicates between them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from functools import partial

from services.orders.model import OrderEvent
from services.orders.records import OrderRecords, OrderStorage

PAGE_SIZE = 500  # events read per query while catching up


class EventFeed:
    """Hands out followers of one store's event log."""

    def __init__(self, store: OrderStorage) -> None:
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
                head = await self._store.run(lambda records: records.last_sequence(), write=False)
                while position < head:
                    page = await self._store.run(
                        partial(_page, after=position, order_id=order_id, through=head),
                        write=False,
                    )
                    # Yield outside the transaction: the consumer may take its time.
                    for event in page:
                        yield event
                    position = page[-1].sequence if len(page) == PAGE_SIZE else head
                await self._sleep(wakeup)
        finally:
            self._wakeups.discard(wakeup)

    async def _sleep(self, wakeup: asyncio.Event) -> None:
        """Until a commit of this process wakes us, or, when other processes may append
        too, until the poll interval has passed."""
        interval = self._store.poll_interval_s
        if interval is None:
            await wakeup.wait()
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wakeup.wait(), interval)

    def _wake(self) -> None:
        for wakeup in self._wakeups:
            wakeup.set()


def _page(records: OrderRecords, *, after: int, order_id: str, through: int) -> list[OrderEvent]:
    return records.events(after, order_id, through=through, limit=PAGE_SIZE)
