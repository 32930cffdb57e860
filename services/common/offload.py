"""Calling a synchronous domain from async adapters, off the event loop when it blocks.

The domains are synchronous: over SQLite a call takes microseconds, less than handing it
to a thread would, so it runs inline. Over DynamoDB every call waits on the network, so
it runs in a worker thread and the event loop keeps serving other requests meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class Offload:
    """Runs a call inline (``blocking=False``) or in asyncio's default thread pool."""

    def __init__(self, blocking: bool) -> None:
        self.blocking = blocking

    async def __call__(self, call: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        if not self.blocking:
            return call(*args, **kwargs)
        return await asyncio.to_thread(call, *args, **kwargs)
