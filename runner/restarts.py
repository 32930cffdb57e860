"""When a local mesh replaces a process that exited without being asked to.

ECS replaces a task that stops; the local runner does the same for a service (or the
gateway) that exits on its own, whatever its exit code: after a backoff that doubles with
every recent restart, and health-gated again before it counts as back. A process that
keeps dying is given up on: more than ``max_restarts`` restarts within ``window_s`` and
the mesh stops, loudly, instead of restarting it for ever.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

DEFAULT_MAX_RESTARTS = 5
DEFAULT_WINDOW_S = 60.0
DEFAULT_INITIAL_BACKOFF_S = 0.5
DEFAULT_MAX_BACKOFF_S = 8.0


@dataclass(frozen=True)
class RestartPolicy:
    """How often, and how soon, a process that exited unexpectedly is started again.

    The n-th restart within the window waits ``initial_backoff_s * 2**(n-1)``, at most
    ``max_backoff_s``. ``max_restarts=0`` never restarts: the first unexpected exit ends
    the mesh (``NO_RESTARTS``).
    """

    max_restarts: int = DEFAULT_MAX_RESTARTS
    window_s: float = DEFAULT_WINDOW_S
    initial_backoff_s: float = DEFAULT_INITIAL_BACKOFF_S
    max_backoff_s: float = DEFAULT_MAX_BACKOFF_S

    def __post_init__(self) -> None:
        if self.max_restarts < 0:
            raise ValueError(f"max_restarts must not be negative, got {self.max_restarts}")
        if self.window_s <= 0 or self.initial_backoff_s < 0 or self.max_backoff_s < 0:
            raise ValueError("window_s must be positive and backoffs must not be negative")

    @property
    def enabled(self) -> bool:
        return self.max_restarts > 0

    def backoff_s(self, recent_restarts: int) -> float:
        """The wait before the next restart, given the restarts already in the window."""
        return min(self.initial_backoff_s * 2.0**recent_restarts, self.max_backoff_s)

    def describe(self) -> str:
        """``at most 5 restarts in 60s`` (or ``restarts off``), for a person."""
        if not self.enabled:
            return "restarts off"
        return f"at most {self.max_restarts} restart(s) in {self.window_s:g}s"


NO_RESTARTS = RestartPolicy(max_restarts=0)
DEFAULT_RESTART_POLICY = RestartPolicy()


@dataclass
class RestartHistory:
    """The restarts of one process, to apply a policy's window to."""

    policy: RestartPolicy
    times: deque[float] = field(default_factory=deque)
    total: int = 0
    """Every restart since the mesh started, in or out of the window."""

    def recent(self, now: float) -> int:
        """Restarts within the policy's window before ``now``."""
        while self.times and now - self.times[0] > self.policy.window_s:
            self.times.popleft()
        return len(self.times)

    def allows(self, now: float) -> bool:
        """Whether one more restart at ``now`` stays within the policy."""
        return self.recent(now) < self.policy.max_restarts

    def next_backoff_s(self, now: float) -> float:
        return self.policy.backoff_s(self.recent(now))

    def record(self, now: float) -> None:
        self.times.append(now)
        self.total += 1
