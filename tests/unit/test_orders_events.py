"""The order event log: gapless sequences, watch replay + live, durability across restart."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import pytest

from meshkit.errors import FailedPrecondition, InvalidArgument
from services.orders.model import OrderEvent, OrderEventType
from tests.unit.order_fakes import World, bounded, command


async def take(events: AsyncGenerator[OrderEvent, None], count: int) -> list[OrderEvent]:
    return [await bounded(anext(events)) for _ in range(count)]


async def test_events_after_are_gapless_from_one(world: World) -> None:
    """Sequences start at 1 and have no gaps across orders."""
    await bounded(world.service.place_order(command(key="a")))
    with pytest.raises(FailedPrecondition):
        await bounded(world.service.place_order(command(key="b", token="tok_decline")))

    sequences = [event.sequence for event in await world.service.events_after(0)]

    assert sequences == list(range(1, len(sequences) + 1))
    assert [e.sequence for e in await world.service.events_after(3)] == sequences[3:]
    assert [e.sequence for e in await world.service.events_after(0, limit=2)] == [1, 2]


async def test_watch_replays_then_yields_live_events_without_gap_or_duplicate(
    world: World,
) -> None:
    """A watcher gets stored events after its position, then new ones as they commit."""
    await bounded(world.service.place_order(command(key="a")))
    watcher = world.service.watch(after_sequence=2)
    try:
        replayed = await take(watcher, 1)
        # Appends land while the watcher is part-way through its replay.
        await bounded(world.service.place_order(command(key="b")))
        rest = await take(watcher, 7)
    finally:
        await watcher.aclose()

    assert [e.sequence for e in replayed + rest] == list(range(3, 11))


async def test_watch_wakes_up_for_events_committed_after_it_caught_up(world: World) -> None:
    """A watcher blocked at the head of the log receives the next commit's events."""
    watcher = world.service.watch(after_sequence=0)
    try:
        pending = asyncio.ensure_future(take(watcher, 5))
        await asyncio.sleep(0)  # one step takes the watcher to the empty head, waiting
        assert not pending.done()
        await bounded(world.service.place_order(command()))
        events = await bounded(pending)
    finally:
        await watcher.aclose()

    assert [e.type for e in events] == [
        OrderEventType.CREATED,
        OrderEventType.QUOTED,
        OrderEventType.RESERVED,
        OrderEventType.CHARGED,
        OrderEventType.CONFIRMED,
    ]


async def test_watch_filters_to_one_order(world: World) -> None:
    """A watcher of one order id gets only that order's events."""
    first = await bounded(world.service.place_order(command(key="a")))
    second = await bounded(world.service.place_order(command(key="b")))
    watcher = world.service.watch(0, second.order_id)
    try:
        events = await take(watcher, 5)
    finally:
        await watcher.aclose()

    assert {e.order_id for e in events} == {second.order_id}
    assert first.order_id != second.order_id
    assert [e.sequence for e in events] == list(range(6, 11))


async def test_watch_cancelled_consumer_leaves_no_task_behind(world: World) -> None:
    """Cancelling a consumer blocked on the live tail ends the watch without leftovers."""

    async def consume() -> None:
        async for _ in world.service.watch(0):
            pass

    consumer = asyncio.create_task(consume())
    await asyncio.sleep(0)
    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await bounded(consumer)

    assert asyncio.all_tasks() == {asyncio.current_task()}


@pytest.mark.parametrize(
    ("after_sequence", "order_id", "fields"),
    [
        (-1, "", ["after_sequence"]),
        (0, "ord_x", ["order_id"]),
        (-5, "bad", ["after_sequence", "order_id"]),
    ],
)
def test_watch_rejects_bad_arguments_before_streaming(
    world: World, after_sequence: int, order_id: str, fields: list[str]
) -> None:
    """Bad watch arguments raise InvalidArgument at the call, naming every bad field."""
    with pytest.raises(InvalidArgument) as caught:
        world.service.watch(after_sequence, order_id)

    assert [v.field for v in caught.value.violations] == fields


async def test_restart_keeps_orders_events_and_continues_the_sequence(world: World) -> None:
    """A new store on the same file has every order and event, and appends after them."""
    confirmed = await bounded(world.service.place_order(command(key="a")))
    with pytest.raises(FailedPrecondition):
        await bounded(world.service.place_order(command(key="b", token="tok_decline")))
    events = await world.service.events_after(0)

    world.reopen()

    assert await world.service.get_order(confirmed.order_id) == confirmed
    assert await world.service.events_after(0) == events
    third = await bounded(world.service.place_order(command(key="c")))
    assert (await world.service.events_after(len(events)))[0].order_id == third.order_id
    assert (await world.service.events_after(len(events)))[0].sequence == len(events) + 1
