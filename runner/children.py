"""One child process of a local mesh: started in its own session with its output read
line by line, and stopped with SIGTERM, a bounded wait, then SIGKILL."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from runner.outcomes import ServiceExit

KILL_WAIT_S = 5.0
OUTPUT_WAIT_S = 2.0
"""How long to wait for a child's last output once it has exited."""
MAX_LINE_BYTES = 1024 * 1024

LogSink = Callable[[str, str], None]
"""Receives (process name, one line of its output without the newline)."""
EventSink = Callable[[str], None]
"""Receives one human-readable line about the mesh itself."""


@dataclass
class Child:
    """A started process, its exit as a task, and what the runner did to it."""

    name: str
    process: asyncio.subprocess.Process
    exited: asyncio.Task[int]
    tail: deque[str]
    """The last output lines; shared by every incarnation of one process name."""
    readers: list[asyncio.Task[None]] = field(default_factory=list)
    killed: bool = False
    terminated: bool = False

    @property
    def pid(self) -> int:
        return self.process.pid

    def outcome(self) -> ServiceExit:
        """How it ended (call once it has exited)."""
        return ServiceExit(self.name, self.process.returncode, self.killed, self.terminated)

    async def finish(self) -> None:
        """Waits (bounded) for the last output of an exited child and closes its stdin."""
        if self.readers:
            _, pending = await asyncio.wait(self.readers, timeout=OUTPUT_WAIT_S)
            for reader in pending:
                reader.cancel()
        if self.process.stdin is not None:
            self.process.stdin.close()

    def kill(self) -> None:
        """SIGKILL now, if it still runs."""
        if self.process.returncode is None:
            self.killed = True
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()


async def spawn(
    name: str, argv: list[str], env: Mapping[str, str], tail: deque[str], on_log: LogSink
) -> Child:
    """Starts ``argv`` in its own session, its stdin held open (see guard.py) and its
    output sent to ``on_log`` line by line."""
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE,  # held open and never written: see guard.py
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        # Its own session, so its own process group: a terminal's Ctrl-C reaches only the
        # runner. (start_new_session rather than process_group: uvloop knows only the former.)
        start_new_session=True,
        limit=MAX_LINE_BYTES,
    )
    child = Child(name, process, asyncio.create_task(process.wait()), tail)
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            child.readers.append(asyncio.create_task(_pump(child, stream, on_log)))
    return child


async def _pump(child: Child, stream: asyncio.StreamReader, on_log: LogSink) -> None:
    while True:
        try:
            raw = await stream.readline()
        except ValueError:  # one line over MAX_LINE_BYTES: readline dropped it
            raw = b"[mesh: an over-long output line was dropped]\n"
        if not raw:
            return
        line = raw.decode(errors="replace").rstrip("\r\n")
        child.tail.append(line)
        on_log(child.name, line)


async def stop(child: Child, budget_s: float, on_event: EventSink) -> ServiceExit:
    """SIGTERM, up to ``budget_s`` for it to exit, then SIGKILL; reports how it ended."""
    if child.process.returncode is None:
        on_event(f"stopping {child.name} (SIGTERM)")
        child.terminated = True
        with contextlib.suppress(ProcessLookupError):
            child.process.send_signal(signal.SIGTERM)
        done, _ = await asyncio.wait({child.exited}, timeout=budget_s)
        if not done:
            on_event(f"{child.name} did not exit within {budget_s:g}s: sending SIGKILL")
            child.kill()
            await asyncio.wait({child.exited}, timeout=KILL_WAIT_S)
    await child.finish()
    result = child.outcome()
    on_event(result.describe())
    return result
