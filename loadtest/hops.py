"""Calls and messages per business operation, from every hop's own counters.

Each mesh process counts, per ``x-operation-id``, the calls it served and the messages it
received and sent (``GET /metrics``). The loader tags a sample of operations; summing
their tallies over all hops and subtracting what the loader itself sent leaves the
internal traffic of one operation, exactly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import aiohttp

from loadtest.arms import Arm, kind_of

METRICS_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Tally:
    calls: int = 0
    messages: int = 0
    """In and out together."""


async def read_tallies(metrics: Mapping[str, str], tag: str) -> dict[str, Tally]:
    """Each process's total for the operations tagged ``<tag>-<n>``; None-free: a process
    that did not answer is left out (and the caller reports chattiness as unmeasured)."""
    prefix = tag + "-"
    timeout = aiohttp.ClientTimeout(total=METRICS_TIMEOUT_S)
    async with aiohttp.ClientSession(timeout=timeout) as session:

        async def one(url: str) -> Tally | None:
            try:
                async with session.get(url) as reply:
                    document = await reply.json()
            except (aiohttp.ClientError, TimeoutError, ValueError):
                return None
            calls = messages = 0
            for operation, tally in document.get("operations", {}).items():
                if operation.startswith(prefix):
                    calls += tally["calls"]
                    messages += tally["messages_in"] + tally["messages_out"]
            return Tally(calls, messages)

        names = list(metrics)
        results = await asyncio.gather(*(one(metrics[name]) for name in names))
    return {name: tally for name, tally in zip(names, results, strict=True) if tally is not None}


def loader_traffic(scenario: str, arm: Arm, items: int, number: int) -> Tally:
    """What the loader itself sends a mesh process for operation ``number``: subtracted,
    so what is left is internal. Through the gateway, the loader talks to no mesh process."""
    if arm.protocol == "gateway":
        return Tally()
    if kind_of(scenario, number) == "quote-stream":
        if arm.per_item:
            return Tally(items, 2 * items)
        if arm.protocol == "grpc" and arm.shape == "stream":  # N messages each way
            return Tally(1, 2 * items)
    return Tally(1, 2)


def internal_per_operation(
    tallies: Mapping[str, Tally], loader: Iterable[Tally], operations: int
) -> tuple[float, float]:
    """(internal calls, internal messages) per operation."""
    sent = list(loader)
    calls = sum(t.calls for t in tallies.values()) - sum(t.calls for t in sent)
    messages = sum(t.messages for t in tallies.values()) - sum(t.messages for t in sent)
    return calls / operations, messages / operations
