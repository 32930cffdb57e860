"""The store threads: where calls that wait on the network run, off the event loop.

The DynamoDB store runs each unit of work here, so the event loop keeps serving other
requests meanwhile (SQLite units take microseconds, less than a thread hop, and run
inline). The threads are a pool of their own, sized for calls that wait rather than
compute: asyncio's default pool has only CPUs + 4 threads, 6 on a two-vCPU task.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

STORE_THREADS = 32
"""Store calls in flight at once per process; each waits a network round trip or two."""

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _store_pool() -> ThreadPoolExecutor:
    global _pool  # one pool per process, made on first use
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(STORE_THREADS, thread_name_prefix="store")
        return _pool


async def on_store_thread(call: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Runs ``call`` on a store thread with the caller's context (trace and request ids),
    as asyncio.to_thread does, and waits for it without blocking the loop."""
    context = contextvars.copy_context()
    bound = functools.partial(context.run, call, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_store_pool(), bound)
