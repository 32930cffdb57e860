"""What must hold after every fault, checked on the books the services report.

Pure functions of one ``Snapshot`` (what a phase read after the load stopped and the
recovery sweep was waited for), each returning the violations it found with the ids
that offend: SKUs, order ids, idempotency keys or event sequence numbers. An empty list
is the only pass.

Charges are found the way orders finds its own: by the idempotency key
``<order id>/charge``, for every order in the log. Payments has no call that lists
charges, so a charge made under any other key would go unseen; nothing in the mesh makes
one.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from loadtest.chaos.books import (
    TERMINAL_EVENTS,
    TERMINAL_STATES,
    ChargeView,
    Event,
    OrderView,
    ReservationView,
    StockView,
)

CONSERVED = "stock conserved"
RESERVED_IS_HELD = "reserved stock is held by reservations"
NOTHING_HELD_FOR_FAILED = "no stock held for a failed or cancelled order"
CONFIRMED_HOLDS_STOCK = "a confirmed order holds its stock"
ONE_CHARGE_PER_CONFIRMED = "one captured charge per confirmed order"
NO_CHARGE_WITHOUT_CONFIRMED = "no captured charge without a confirmed order"
FINISHED = "no order left unfinished"
ONE_ORDER_PER_KEY = "one order per idempotency key"
GAPLESS = "gapless event log"
LOG_AGREES = "the log agrees with the orders"

INVARIANTS = (
    CONSERVED,
    RESERVED_IS_HELD,
    NOTHING_HELD_FOR_FAILED,
    CONFIRMED_HOLDS_STOCK,
    ONE_CHARGE_PER_CONFIRMED,
    NO_CHARGE_WITHOUT_CONFIRMED,
    FINISHED,
    ONE_ORDER_PER_KEY,
    GAPLESS,
    LOG_AGREES,
)
HELD, CAPTURED, CONFIRMED = "HELD", "CAPTURED", "CONFIRMED"


@dataclass(frozen=True)
class Violation:
    invariant: str
    ids: tuple[str, ...]
    """What offends, sorted: SKUs, order ids, keys or sequence numbers."""
    detail: str = ""

    def describe(self, limit: int = 10) -> str:
        shown = ", ".join(self.ids[:limit])
        more = f" and {len(self.ids) - limit} more" if len(self.ids) > limit else ""
        return f"{self.invariant}: {shown}{more}" + (f" ({self.detail})" if self.detail else "")


@dataclass
class Snapshot:
    """The books of one phase, read after its load stopped and its orders settled."""

    seeded: Mapping[str, int]
    """SKU → available + reserved before any load (the seeded totals)."""
    stock: Mapping[str, StockView]
    """SKU → its stock now, for every SKU this phase's orders used."""
    orders: Mapping[str, OrderView]
    """Order id → the order, for every order this phase created."""
    reservations: Mapping[str, ReservationView | None]
    """Reservation key → the reservation, for every line of those orders (None: none made)."""
    charges: Mapping[str, ChargeView | None]
    """Order id → the charge made under ``<order id>/charge`` (None: none made)."""
    events: Sequence[Event]
    """The log read in this phase, from ``after`` on."""
    after: int
    """The last sequence read before this phase."""
    created: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Idempotency key → every order CREATED with it, in the whole log so far."""
    named: Mapping[str, Iterable[str]] = field(default_factory=dict)
    """Idempotency key → the order ids the answers to it named."""


def check(snapshot: Snapshot) -> list[Violation]:
    """Every violation found, in the order of ``INVARIANTS``."""
    found = [
        *_stock(snapshot),
        *_reservations(snapshot),
        *_charges(snapshot),
        *_finished(snapshot),
        *_keys(snapshot),
        *_log(snapshot),
    ]
    return sorted(found, key=lambda v: INVARIANTS.index(v.invariant))


def _violation(name: str, ids: Iterable[str], detail: str = "") -> list[Violation]:
    offending = tuple(sorted(set(ids)))
    return [Violation(name, offending, detail)] if offending else []


def _stock(snapshot: Snapshot) -> list[Violation]:
    changed = {
        sku: f"{sku} {stock.available}+{stock.reserved}≠{snapshot.seeded[sku]}"
        for sku, stock in snapshot.stock.items()
        if stock.total != snapshot.seeded[sku]
    }
    held: dict[str, int] = defaultdict(int)
    for reservation in snapshot.reservations.values():
        if reservation is not None and reservation.state == HELD:
            held[reservation.sku] += reservation.quantity
    unaccounted = {
        sku: f"{sku} reserved {stock.reserved}, held {held[sku]}"
        for sku, stock in snapshot.stock.items()
        if stock.reserved != held[sku]
    }
    return [
        *_violation(CONSERVED, changed, "; ".join(list(changed.values())[:5])),
        *_violation(RESERVED_IS_HELD, unaccounted, "; ".join(list(unaccounted.values())[:5])),
    ]


def _reservations(snapshot: Snapshot) -> list[Violation]:
    held_for_failed: list[str] = []
    keys: list[str] = []
    not_held: list[str] = []
    for order in snapshot.orders.values():
        found = [(line, snapshot.reservations.get(line.reservation_key)) for line in order.lines]
        if order.state in ("FAILED", "CANCELLED"):
            held = [line.reservation_key for line, r in found if r is not None and r.state == HELD]
            if held:
                held_for_failed.append(order.order_id)
                keys.extend(held)
        elif order.state == CONFIRMED and not all(
            r is not None and r.state == HELD and (r.sku, r.quantity) == (line.sku, line.quantity)
            for line, r in found
        ):
            not_held.append(order.order_id)
    return [
        *_violation(NOTHING_HELD_FOR_FAILED, held_for_failed, "held: " + ", ".join(keys[:5])),
        *_violation(CONFIRMED_HOLDS_STOCK, not_held),
    ]


def _charges(snapshot: Snapshot) -> list[Violation]:
    missing: list[str] = []
    stray: list[str] = []
    for order in snapshot.orders.values():
        charge = snapshot.charges.get(order.order_id)
        if order.state == CONFIRMED:
            if (
                charge is None
                or charge.state != CAPTURED
                or charge.charge_id != order.charge_id
                or charge.reference != order.order_id
            ):
                missing.append(order.order_id)
        elif charge is not None and charge.state == CAPTURED:
            stray.append(order.order_id)
    return [
        *_violation(ONE_CHARGE_PER_CONFIRMED, missing),
        *_violation(NO_CHARGE_WITHOUT_CONFIRMED, stray),
    ]


def _finished(snapshot: Snapshot) -> list[Violation]:
    pending = [o.order_id for o in snapshot.orders.values() if o.state not in TERMINAL_STATES]
    return _violation(FINISHED, pending)


def _keys(snapshot: Snapshot) -> list[Violation]:
    offending = []
    for key in set(snapshot.created) | set(snapshot.named):
        created = set(snapshot.created.get(key, ()))
        named = set(snapshot.named.get(key, ())) - {""}
        if len(snapshot.created.get(key, ())) > 1 or not named <= created:
            offending.append(key)
    return _violation(ONE_ORDER_PER_KEY, offending)


def _log(snapshot: Snapshot) -> list[Violation]:
    sequences = [event.sequence for event in snapshot.events]
    expected = range(snapshot.after + 1, snapshot.after + 1 + len(sequences))
    gaps: list[str] = []
    if sequences != list(expected):
        seen = Counter(sequences)
        top = max([*sequences, snapshot.after])
        gaps = [str(n) for n in range(snapshot.after + 1, top + 1) if seen[n] != 1]
    by_order: dict[str, list[Event]] = defaultdict(list)
    for event in snapshot.events:
        by_order[event.order_id].append(event)
    disagreeing = []
    for order in snapshot.orders.values():
        history = by_order.get(order.order_id, [])
        created = sum(event.type == "CREATED" for event in history)
        ends = [event.type for event in history if event.type in TERMINAL_EVENTS]
        last = ends[-1] if ends else "PENDING"
        if created != 1 or last != order.state:
            disagreeing.append(order.order_id)
    return [
        *_violation(GAPLESS, gaps, "sequence numbers missing or repeated"),
        *_violation(LOG_AGREES, disagreeing),
    ]
