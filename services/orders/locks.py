"""asyncio locks by key, so work on one order never interleaves with other work on it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field


@dataclass
class _Entry:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0  # tasks holding or waiting for the lock


class KeyedLocks:
    """One lock per key, created on first use and dropped when no task needs it."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}

    def held(self, key: str) -> bool:
        """Whether some task holds the lock of ``key`` right now."""
        entry = self._entries.get(key)
        return entry is not None and entry.lock.locked()

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        """Holds the lock of ``key`` for the block."""
        entry = self._entries.setdefault(key, _Entry())
        entry.users += 1
        try:
            async with entry.lock:
                yield
        finally:
            entry.users -= 1
            if not entry.users:
                del self._entries[key]
