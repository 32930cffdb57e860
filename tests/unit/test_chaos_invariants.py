"""The chaos suite's invariants: consistent books pass, and each kind of damage is caught
by its own invariant, naming exactly the offending ids."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable

import pytest

from loadtest.chaos import invariants as inv
from loadtest.chaos.books import (
    ChargeView,
    Event,
    Line,
    OrderView,
    ReservationView,
    StockView,
)
from loadtest.chaos.invariants import Snapshot, check

T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
A, B = "SKU-00001", "SKU-00002"


def _events(*spec: tuple[str, str, str]) -> list[Event]:
    return [Event(n, order, kind, detail, T0) for n, (order, kind, detail) in enumerate(spec, 11)]


def _books() -> Snapshot:
    """Two orders after a phase: ord_ok CONFIRMED (2 x A, 1 x B, charged), ord_no FAILED
    (declined: its reservation released, no charge)."""
    ok = OrderView("ord_ok", "CONFIRMED", (Line(A, 2, "ord_ok/0"), Line(B, 1, "ord_ok/1")), "ch_1")
    no = OrderView("ord_no", "FAILED", (Line(A, 1, "ord_no/0"),), "")
    return Snapshot(
        seeded={A: 10, B: 5},
        stock={A: StockView(8, 2), B: StockView(4, 1)},
        orders={"ord_ok": ok, "ord_no": no},
        reservations={
            "ord_ok/0": ReservationView("ord_ok/0", A, 2, "HELD"),
            "ord_ok/1": ReservationView("ord_ok/1", B, 1, "HELD"),
            "ord_no/0": ReservationView("ord_no/0", A, 1, "RELEASED"),
        },
        charges={"ord_ok": ChargeView("ch_1", "CAPTURED", "ord_ok"), "ord_no": None},
        events=_events(
            ("ord_ok", "CREATED", "key-ok"),
            ("ord_no", "CREATED", "key-no"),
            ("ord_ok", "CONFIRMED", ""),
            ("ord_no", "STOCK_RELEASED", A),
            ("ord_no", "FAILED", "declined"),
        ),
        after=10,
        created={"key-ok": ["ord_ok"], "key-no": ["ord_no"]},
        named={"key-ok": {"ord_ok", ""}, "key-no": {"ord_no"}},
    )


def test_consistent_books_pass() -> None:
    """Books where every unit, reservation, charge and event adds up: no violation."""
    assert check(_books()) == []


def _replace(snapshot: Snapshot, **changes: object) -> Snapshot:
    return dataclasses.replace(snapshot, **changes)  # type: ignore[arg-type]


def _leaked_release(s: Snapshot) -> Snapshot:
    """The failed order's reservation still held (the broken compensation)."""
    held = ReservationView("ord_no/0", A, 1, "HELD")
    return _replace(
        s, reservations={**s.reservations, "ord_no/0": held}, stock={**s.stock, A: StockView(7, 3)}
    )


DAMAGE: list[tuple[str, Callable[[Snapshot], Snapshot], str, tuple[str, ...]]] = [
    (
        "a unit vanished",
        lambda s: _replace(s, stock={**s.stock, B: StockView(3, 1)}),
        inv.CONSERVED,
        (B,),
    ),
    (
        "reserved units no reservation holds",
        lambda s: _replace(s, stock={**s.stock, B: StockView(3, 2)}),
        inv.RESERVED_IS_HELD,
        (B,),
    ),
    ("stock held for a failed order", _leaked_release, inv.NOTHING_HELD_FOR_FAILED, ("ord_no",)),
    (
        "a confirmed order's stock released",
        lambda s: _replace(
            s,
            reservations={
                **s.reservations,
                "ord_ok/1": ReservationView("ord_ok/1", B, 1, "RELEASED"),
            },
            stock={**s.stock, B: StockView(5, 0)},
        ),
        inv.CONFIRMED_HOLDS_STOCK,
        ("ord_ok",),
    ),
    (
        "a confirmed order whose charge was refunded",
        lambda s: _replace(
            s, charges={**s.charges, "ord_ok": ChargeView("ch_1", "REFUNDED", "ord_ok")}
        ),
        inv.ONE_CHARGE_PER_CONFIRMED,
        ("ord_ok",),
    ),
    (
        "a confirmed order pointing at another charge",
        lambda s: _replace(
            s, charges={**s.charges, "ord_ok": ChargeView("ch_2", "CAPTURED", "ord_ok")}
        ),
        inv.ONE_CHARGE_PER_CONFIRMED,
        ("ord_ok",),
    ),
    (
        "money taken for a failed order",
        lambda s: _replace(
            s, charges={**s.charges, "ord_no": ChargeView("ch_9", "CAPTURED", "ord_no")}
        ),
        inv.NO_CHARGE_WITHOUT_CONFIRMED,
        ("ord_no",),
    ),
    (
        "an order still pending",
        lambda s: _replace(
            s,
            orders={**s.orders, "ord_no": dataclasses.replace(s.orders["ord_no"], state="PENDING")},
            events=[e for e in s.events if e.type != "FAILED"],
        ),
        inv.FINISHED,
        ("ord_no",),
    ),
    (
        "one key, two orders",
        lambda s: _replace(s, created={**s.created, "key-no": ["ord_no", "ord_x"]}),
        inv.ONE_ORDER_PER_KEY,
        ("key-no",),
    ),
    (
        "an answer naming another order",
        lambda s: _replace(s, named={**s.named, "key-ok": {"ord_other"}}),
        inv.ONE_ORDER_PER_KEY,
        ("key-ok",),
    ),
    (
        "a gap in the log",
        lambda s: _replace(s, events=[e for e in s.events if e.sequence != 14]),
        inv.GAPLESS,
        ("14",),
    ),
    (
        "a repeated sequence number",
        lambda s: _replace(s, events=[*s.events[:4], s.events[3], *s.events[4:]]),
        inv.GAPLESS,
        ("14",),
    ),
    (
        "an order whose log says otherwise",
        lambda s: _replace(
            s,
            orders={
                **s.orders,
                "ord_ok": dataclasses.replace(s.orders["ord_ok"], state="CANCELLED"),
            },
            charges={**s.charges, "ord_ok": ChargeView("ch_1", "REFUNDED", "ord_ok")},
            reservations={
                **s.reservations,
                "ord_ok/0": ReservationView("ord_ok/0", A, 2, "RELEASED"),
                "ord_ok/1": ReservationView("ord_ok/1", B, 1, "RELEASED"),
            },
            stock={A: StockView(10, 0), B: StockView(5, 0)},
        ),
        inv.LOG_AGREES,
        ("ord_ok",),
    ),
]


@pytest.mark.parametrize(
    ("damage", "invariant", "ids"),
    [(d, name, ids) for _, d, name, ids in DAMAGE],
    ids=[case[0] for case in DAMAGE],
)
def test_each_damage_is_caught_by_its_invariant_with_the_ids(
    damage: Callable[[Snapshot], Snapshot], invariant: str, ids: tuple[str, ...]
) -> None:
    """One kind of damage, one violation: the invariant named for it, and exactly the ids
    that offend."""
    found = check(damage(_books()))
    assert [(v.invariant, v.ids) for v in found] == [(invariant, ids)]


def test_a_leaked_release_names_the_reservation_keys_too() -> None:
    """The violation a broken compensation causes says which reservations are held."""
    [violation] = check(_leaked_release(_books()))
    assert "held: ord_no/0" in violation.describe()


def test_describe_shortens_long_id_lists() -> None:
    """A violation with many ids shows the first ten and says how many more."""
    violation = inv.Violation(inv.FINISHED, tuple(f"ord_{n:02d}" for n in range(12)))
    assert violation.describe().endswith("ord_09 and 2 more")
