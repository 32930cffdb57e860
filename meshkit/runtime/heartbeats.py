"""Heartbeats for long-lived server streams that may have nothing to say for a while.

Service Connect's proxy and VPC Lattice cut a stream that carries no message for their
idle timeout, and HTTP/2 PINGs do not count as stream activity; so a stream such as
WatchOrders sends a heartbeat message whenever ``every_s`` passed without one of its own
(docs/AWS.md, "Health and timeouts").
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from typing import TypeVar

T = TypeVar("T")


async def with_heartbeats(
    source: AsyncIterator[T], every_s: float
) -> AsyncGenerator[T | None, None]:
    """The items of ``source``, with None in between whenever ``every_s`` passed without
    an item. The next item is awaited in a task of its own, so a heartbeat never cancels
    (and never loses) the read in progress; ``source`` is closed when this generator is."""
    pending: asyncio.Future[T] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(source))
            done, _ = await asyncio.wait({pending}, timeout=every_s)
            if not done:
                yield None
                continue
            next_item, pending = pending, None
            try:
                item = next_item.result()
            except StopAsyncIteration:
                return
            yield item
    finally:
        if pending is not None:
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                await pending
        closer = getattr(source, "aclose", None)
        if closer is not None:
            await closer()
