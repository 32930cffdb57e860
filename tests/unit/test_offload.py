"""Offload: domain calls stay on the event loop over SQLite, leave it over DynamoDB."""

from __future__ import annotations

import asyncio
import contextvars
import os
import threading

from meshkit.storage.offload import STORE_THREADS, Offload

REQUEST = contextvars.ContextVar("request", default="")


def _where() -> tuple[str, str]:
    return threading.current_thread().name, REQUEST.get()


async def test_a_non_blocking_store_is_called_inline() -> None:
    """blocking=False runs the call on the loop's own thread."""
    REQUEST.set("r-1")
    thread, request = await Offload(blocking=False)(_where)
    assert thread == threading.current_thread().name
    assert request == "r-1"


async def test_a_blocking_store_is_called_on_a_store_thread_with_the_callers_context() -> None:
    """blocking=True runs the call on a store thread, with the caller's context variables."""
    REQUEST.set("r-2")
    thread, request = await Offload(blocking=True)(_where)
    assert thread.startswith("store")
    assert request == "r-2"


async def test_blocking_calls_overlap_up_to_the_pool_size() -> None:
    """More calls that wait (on the network; here on each other) than asyncio's default
    pool of CPUs + 4 threads could hold are all in flight at once, and the event loop
    keeps running meanwhile."""
    wanted = min(32, (os.cpu_count() or 1) + 5)
    assert wanted <= STORE_THREADS
    all_in = threading.Barrier(wanted, timeout=10)
    call = Offload(blocking=True)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.001)
            ticks += 1

    ticker = asyncio.create_task(tick())
    waits = await asyncio.gather(*(call(all_in.wait) for _ in range(wanted)))
    ticker.cancel()
    assert sorted(waits) == list(range(wanted))  # every call got through the barrier
    assert ticks > 0
