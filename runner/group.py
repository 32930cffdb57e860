"""``MeshGroup``: several local meshes run as one — a gRPC mesh and a REST one side by side.

Nothing starts unless every mesh passes its pre-flight; then they start together, and
if one fails to start the others are stopped too. Stopping stops them all at once, each
in its own order (dependents first), so the group takes as long as its slowest mesh.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from runner.outcomes import ServiceExit, StopReport
from runner.supervisor import LocalMesh


class MeshGroup:
    """The ``LocalMesh`` lifecycle (start, wait_for_exit, stop, kill) over several meshes,
    whose process names must differ (``plan.process_name`` sees to that across
    transports)."""

    def __init__(self, meshes: Iterable[LocalMesh]) -> None:
        self.meshes = tuple(meshes)
        names = [name for mesh in self.meshes for name in mesh.process_names]
        if not self.meshes or len(set(names)) != len(names):
            raise ValueError(f"a group needs meshes whose processes differ by name: {names}")

    async def start(self) -> None:
        """Checks every mesh, then starts them together; on failure stops them all.

        Raises the first mesh's ``PreflightError`` (nothing was started) or the first
        ``ServiceFailed``; cancel it to abort start-up, then await ``stop()``.
        """
        for mesh in self.meshes:
            mesh.preflight()
        starts = [asyncio.create_task(mesh.start()) for mesh in self.meshes]
        try:
            done, _ = await asyncio.wait(starts, return_when=asyncio.FIRST_EXCEPTION)
        finally:
            # After a failure, or when cancelled: each cancelled start() stops its own mesh.
            for start in starts:
                start.cancel()
            await asyncio.gather(*starts, return_exceptions=True)
        for start in done:
            if not start.cancelled() and (failure := start.exception()) is not None:
                raise failure

    @property
    def pids(self) -> dict[str, int]:
        """Process name → pid, over every mesh."""
        return {name: pid for mesh in self.meshes for name, pid in mesh.pids.items()}

    @property
    def restarts(self) -> dict[str, int]:
        """Process name → how many times it was restarted, over every mesh."""
        return {name: n for mesh in self.meshes for name, n in mesh.restarts.items()}

    async def wait_for_exit(self) -> ServiceExit:
        """Returns once any mesh gives up on a process that exited unexpectedly."""
        waits = [asyncio.create_task(mesh.wait_for_exit()) for mesh in self.meshes]
        try:
            done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()
        return done.pop().result()

    async def stop(self) -> StopReport:
        """Stops every mesh at once; one report with every exit, mesh by mesh."""
        reports = await asyncio.gather(*(mesh.stop() for mesh in self.meshes))
        exits = tuple(service_exit for report in reports for service_exit in report.exits)
        return StopReport(exits, max(report.seconds for report in reports))

    def kill(self) -> None:
        """SIGKILLs every process of every mesh still running, now."""
        for mesh in self.meshes:
            mesh.kill()

    def log_tail(self, name: str) -> tuple[str, ...]:
        """The last output lines of a started process, by its process name."""
        for mesh in self.meshes:
            if name in mesh.pids:
                return mesh.log_tail(name)
        return ()
