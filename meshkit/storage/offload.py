"""Calling a synchronous domain from async adapters, off the event loop when it blocks.

The domains are synchronous: over SQLite a call takes microseconds, less than handing it
to a thread would, so it runs inline. Over DynamoDB every call waits on the network, so
it runs on a worker thread and the event loop keeps serving other requests meanwhile.
The workers are a pool of their own, sized for calls that wait rather than compute
(asyncio's default pool has only CPUs + 4 threads: 6 on a two-vCPU task).
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


class Offload:
    """Runs a call inline (``blocking=False``) or on the store pool's threads."""

    def __init__(self, blocking: bool) -> None:
        self.blocking = blocking

    async def __call__(self, call: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        if not self.blocking:
            return call(*args, **kwargs)
        # Carries the caller's context (trace and request ids) to the thread, as
        # asyncio.to_thread does.
        context = contextvars.copy_context()
        bound = functools.partial(context.run, call, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(_store_pool(), bound)
