"""The drain sequence every host runs on SIGTERM, whatever it serves (gRPC or REST).

1. Stop looking ready (gRPC health NOT_SERVING, ``/healthz`` 503): load balancers stop
   routing here. 2. Keep serving for the drain delay while they notice. 3. Stop accepting
   and give in-flight work the grace period. 4. Cancel background jobs, then release
   what the host holds (channels or sessions, its health listener, the service's own
   ``on_stop`` hooks). Concurrent calls to ``stop`` share one sequence (F46).
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod

from meshkit.runtime.config import RuntimeConfig

_log = logging.getLogger("shopmesh.server")


class DrainingHost(ABC):
    """A host's lifecycle around the drain sequence; subclasses supply its steps."""

    config: RuntimeConfig

    def __init__(self) -> None:
        self._tasks: list[asyncio.Task[None]] = []
        """Background jobs, cancelled at step 4."""
        self._stopping: asyncio.Task[None] | None = None

    async def stop(self, grace_s: float | None = None, drain_delay_s: float | None = None) -> None:
        """Drains, with the config's delay and grace unless given."""
        if self._stopping is None:
            self._stopping = asyncio.create_task(self._drain(grace_s, drain_delay_s))
        await asyncio.shield(self._stopping)

    async def _drain(self, grace_s: float | None, drain_delay_s: float | None) -> None:
        grace = self.config.grace_s if grace_s is None else grace_s
        delay = self.config.drain_delay_s if drain_delay_s is None else drain_delay_s
        _log.info("draining", extra={"drain_delay_s": delay, "grace_s": grace})
        await self._stop_looking_ready()
        await asyncio.sleep(delay)
        await self._stop_serving(grace)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._release()
        _log.info("stopped")

    @abstractmethod
    async def _stop_looking_ready(self) -> None:
        """Step 1: health says draining."""

    @abstractmethod
    async def _stop_serving(self, grace_s: float) -> None:
        """Step 3: refuse new work, wait up to ``grace_s`` for work in flight."""

    @abstractmethod
    async def _release(self) -> None:
        """Step 4: close what the host holds and run the service's ``on_stop`` hooks."""
