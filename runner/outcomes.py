"""How a local mesh's services ended, or why one never started."""

from __future__ import annotations

import signal
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceExit:
    """How one service process ended."""

    name: str
    returncode: int | None
    killed: bool = False
    """The runner had to SIGKILL it."""
    terminated: bool = False
    """The runner sent it SIGTERM (rather than it exiting on its own)."""
    restarts: int = 0
    """How many times the runner had restarted it before this exit."""

    @property
    def clean(self) -> bool:
        """Stopped as asked: exit 0 after draining, or ended by our SIGTERM while still
        starting up (before it installs its handler there is nothing to drain)."""
        if self.killed:
            return False
        return self.returncode == 0 or (self.terminated and self.returncode == -signal.SIGTERM)

    @property
    def outcome(self) -> str:
        """``exited cleanly``, ``was killed (SIGKILL)``, ``exited with code 1``, ..."""
        if self.killed:
            return "was killed (SIGKILL)"
        if self.returncode == 0:
            return "exited cleanly"
        if self.clean:
            return "ended by SIGTERM before it could handle it (still starting)"
        if self.returncode is not None and self.returncode < 0:
            return f"died from {signal.Signals(-self.returncode).name}"
        return f"exited with code {self.returncode}"

    def describe(self) -> str:
        """The outcome with the service's name in front."""
        return f"{self.name} {self.outcome}"


@dataclass(frozen=True)
class StopReport:
    """Every service's exit, in the order they were stopped."""

    exits: tuple[ServiceExit, ...]
    seconds: float

    @property
    def clean(self) -> bool:
        return all(service_exit.clean for service_exit in self.exits)

    def summary(self) -> str:
        """One line for a person."""
        clean = sum(service_exit.clean for service_exit in self.exits)
        text = f"stopped {len(self.exits)} service(s) in {self.seconds:.1f}s: {clean} cleanly"
        problems = [e.describe() for e in self.exits if not e.clean]
        return text + (f"; {'; '.join(problems)}" if problems else "")


class ServiceFailed(RuntimeError):
    """A service exited or never became SERVING during start-up."""

    def __init__(self, name: str, reason: str, log_tail: Iterable[str]) -> None:
        super().__init__(f"{name} failed to start: {reason}")
        self.name = name
        self.reason = reason
        self.log_tail = tuple(log_tail)
