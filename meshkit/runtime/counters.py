"""What a server received and sent: calls and messages per method and per operation.

The load test reads these from every hop (``GET /metrics`` on the health port) to
measure chattiness: an operation id set by the caller (``x-operation-id``) travels to
every downstream call, so each hop counts its share of one business operation under the
same id. Per-operation tallies are bounded: the oldest operations are forgotten first.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from typing import Any

DEFAULT_MAX_OPERATIONS = 10_000


@dataclass
class Tally:
    calls: int = 0
    messages_in: int = 0
    messages_out: int = 0


class CallCounters:
    """Tallies by gRPC method and by operation id."""

    def __init__(self, max_operations: int = DEFAULT_MAX_OPERATIONS) -> None:
        self._max_operations = max_operations
        self._methods: dict[str, Tally] = {}
        self._operations: OrderedDict[str, Tally] = OrderedDict()

    def record(self, method: str, operation_id: str, messages_in: int, messages_out: int) -> None:
        tallies = [self._methods.setdefault(method, Tally())]
        if operation_id:
            tally = self._operations.get(operation_id)
            if tally is None:
                tally = self._operations[operation_id] = Tally()
                if len(self._operations) > self._max_operations:
                    self._operations.popitem(last=False)
            tallies.append(tally)
        for tally in tallies:
            tally.calls += 1
            tally.messages_in += messages_in
            tally.messages_out += messages_out

    def snapshot(self) -> dict[str, Any]:
        return {
            "methods": {name: asdict(tally) for name, tally in self._methods.items()},
            "operations": {op: asdict(tally) for op, tally in self._operations.items()},
        }


class CountingStream:
    """An async iterator that counts the messages it passes on (request streams)."""

    def __init__(self, inner: AsyncIterator[Any]) -> None:
        self._inner = inner
        self.count = 0

    def __aiter__(self) -> CountingStream:
        return self

    async def __anext__(self) -> Any:
        item = await self._inner.__anext__()
        self.count += 1
        return item
