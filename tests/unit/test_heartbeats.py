"""with_heartbeats: a None between items whenever the source is quiet for the interval,
no item lost or reordered by a heartbeat, and the source closed with the stream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

from meshkit.runtime.heartbeats import with_heartbeats


async def test_heartbeats_fill_the_quiet_and_items_arrive_whole_and_in_order() -> None:
    """A source that pauses longer than the interval gets heartbeats between its items."""

    async def source() -> AsyncGenerator[int, None]:
        yield 1
        await asyncio.sleep(0.25)
        yield 2
        yield 3

    seen = [item async for item in with_heartbeats(source(), 0.1)]

    assert [item for item in seen if item is not None] == [1, 2, 3]
    assert seen[0] == 1
    assert 1 <= seen.count(None) <= 3
    assert seen.index(2) > seen.index(None)


async def test_closing_the_stream_closes_the_source_waiting_for_its_next_item() -> None:
    """A consumer that stops (a cancelled RPC) leaves no task behind: the source's read in
    progress is cancelled and its cleanup runs."""
    cleaned = asyncio.Event()

    async def source() -> AsyncGenerator[int, None]:
        try:
            yield 1
            await asyncio.Event().wait()  # never another item
            yield 2
        finally:
            cleaned.set()

    stream = with_heartbeats(source(), 0.05)
    assert await anext(stream) == 1
    assert await anext(stream) is None
    await stream.aclose()

    await asyncio.wait_for(cleaned.wait(), 1)
