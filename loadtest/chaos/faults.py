"""The faults the chaos suite injects, what each one does and what must hold besides the
invariants.

Each fault is injected into a mesh under open-loop checkout load, ``pre_s`` after the
phase's load starts, and healed after ``hold_s`` (or, for a process that was killed or
told to stop, once the runner has restarted it and it is SERVING again). Faults on orders
itself slow the orders → payments link around the injection, so that sagas are caught
mid-way (reserved, charging) rather than between two orders.

Cases of docs/RELIABILITY.md they hold: a service killed under load and restarted (R-E38),
the only replica gone or cut off failing fast (R-E41), latency, a cut and a one-way
partition through the relay (R-E43), the event log through crashes (R-G53).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

SERVICES = ("catalog", "pricing", "inventory", "payments", "orders")
MID_SAGA_DELAY_S = 0.15
"""Added each way on orders → payments around faults on orders: sagas wait in the
charge step, reserved and not yet charged (or charged, reply not yet back)."""
SLOW_DELAY_S = 0.05
"""Added each way on orders → inventory by the slow-link fault."""


class Kind(enum.Enum):
    NONE = "none"
    KILL = "kill"
    """SIGKILL the service's process; the runner restarts it."""
    TERM = "term"
    """SIGTERM: it drains and exits; the runner restarts it."""
    STOP = "stop"
    """SIGSTOP, then SIGCONT after the hold: a dependency that hangs."""
    SLOW = "slow"
    """The relay in front of the dependency delays every chunk."""
    CUT = "cut"
    """The relay in front of the dependency resets every connection."""
    ONE_WAY = "one-way"
    """The relay lets requests through and holds the dependency's replies."""


@dataclass(frozen=True)
class Fault:
    name: str
    kind: Kind
    target: str = ""
    """The service whose process or link it hits."""
    what: str = ""
    """One line for the report: what is injected."""
    copies: int = 1
    """Deliveries of each PlaceOrder, sent at once with the same idempotency key."""
    retry_after: bool = False
    """Send every key once more after the fault, as a client retrying would."""
    all_settle: bool = False
    """Expect every operation to be answered by the business (confirmed or declined)."""
    settle_before_signal: bool = False
    """Expect every operation sent before the signal to be answered by the business (its
    calls get the drain's budget, delay + grace, as deadline)."""

    @property
    def restarts(self) -> bool:
        """The process exits, so the fault is over once the runner restarted it."""
        return self.kind in (Kind.KILL, Kind.TERM)

    @property
    def mid_saga(self) -> bool:
        """It hits orders: slow the payments link around it to catch sagas mid-way."""
        return self.target == "orders"


def _kill(service: str) -> Fault:
    what = f"SIGKILL {service}; the runner restarts it (backoff 0.5 s, health-gated)"
    if service == "orders":
        what = "SIGKILL orders mid-saga; restarted, it compensates the sagas it left"
    return Fault(f"kill-{service}", Kind.KILL, service, what)


CATALOGUE: dict[str, Fault] = {
    fault.name: fault
    for fault in (
        Fault("baseline", Kind.NONE, what="no fault: the same load, for comparison"),
        *(_kill(service) for service in SERVICES),
        Fault(
            "term-orders",
            Kind.TERM,
            "orders",
            "SIGTERM orders under load: it drains (in-flight sagas finish), the runner restarts it",
            settle_before_signal=True,
        ),
        Fault(
            "hang-payments",
            Kind.STOP,
            "payments",
            "SIGSTOP payments for the hold, then SIGCONT: deadlines fire, compensations run",
        ),
        Fault(
            "slow-inventory",
            Kind.SLOW,
            "inventory",
            f"orders → inventory link +{SLOW_DELAY_S * 1000:g} ms each way: tail latency only",
            all_settle=True,
        ),
        Fault(
            "cut-inventory",
            Kind.CUT,
            "inventory",
            "orders → inventory connections reset, new ones refused, for the hold",
        ),
        Fault(
            "one-way-payments",
            Kind.ONE_WAY,
            "payments",
            "payments' replies held for the hold (requests arrive): charges taken, replies lost",
        ),
        Fault(
            "duplicates",
            Kind.KILL,
            "orders",
            "each PlaceOrder sent 3 times at once; orders killed mid-phase; every key retried",
            copies=3,
            retry_after=True,
        ),
    )
}
QUICK = (
    "baseline",
    "kill-orders",
    "term-orders",
    "hang-payments",
    "cut-inventory",
    "one-way-payments",
    "duplicates",
)
"""The short version CI runs."""
SMALL = ("baseline", "kill-inventory", "kill-orders", "duplicates")
"""The DynamoDB variant's set: the local moto server answers one request at a time."""
