"""Units of work stay on the event loop over SQLite and leave it over DynamoDB, for the
store threads."""

from __future__ import annotations

import asyncio
import contextvars
import os
import threading

from meshkit.storage.dynamodb import DynamoStore, Table, UnitOfWork
from meshkit.storage.offload import STORE_THREADS, on_store_thread
from meshkit.storage.sqlite import Database, SqliteStore

REQUEST = contextvars.ContextVar("request", default="")


def _where(records: object = None) -> tuple[str, str]:
    return threading.current_thread().name, REQUEST.get()


async def test_a_sqlite_store_runs_its_units_inline() -> None:
    """A SQLite unit of work runs on the loop's own thread."""
    store = SqliteStore(Database(":memory:", ()), lambda connection: connection)
    REQUEST.set("r-1")
    thread, request = await store.run(_where)
    store.close()
    assert thread == threading.current_thread().name
    assert request == "r-1"


async def test_a_dynamodb_store_runs_its_units_on_a_store_thread_with_the_callers_context(
    dynamo_table: Table,
) -> None:
    """A DynamoDB unit of work runs on a store thread, with the caller's context variables."""
    store = DynamoStore(dynamo_table, lambda unit: unit)

    def where(unit: UnitOfWork) -> tuple[str, str]:
        return _where()

    REQUEST.set("r-2")
    thread, request = await store.run(where, write=False)
    assert thread.startswith("store")
    assert request == "r-2"


async def test_blocking_calls_overlap_up_to_the_pool_size() -> None:
    """More calls that wait (on the network; here on each other) than asyncio's default
    pool of CPUs + 4 threads could hold are all in flight at once, and the event loop
    keeps running meanwhile: each call waits for the others and then for the loop to have
    run a task while they were blocked."""
    wanted = min(32, (os.cpu_count() or 1) + 5)
    assert wanted <= STORE_THREADS
    all_in = threading.Barrier(wanted, timeout=10)
    loop_ran = threading.Event()

    def wait_for_the_others_and_the_loop() -> int:
        arrival = all_in.wait()
        if not loop_ran.wait(timeout=10):
            raise TimeoutError("the event loop did not run while the calls waited")
        return arrival

    async def run_on_the_loop() -> None:
        await asyncio.sleep(0)
        loop_ran.set()

    calls = [on_store_thread(wait_for_the_others_and_the_loop) for _ in range(wanted)]
    arrivals, _ = await asyncio.gather(asyncio.gather(*calls), run_on_the_loop())
    assert sorted(arrivals) == list(range(wanted))  # every call got through the barrier
