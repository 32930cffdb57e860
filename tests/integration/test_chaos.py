"""The chaos suite's short version, as CI runs it: real meshes started by the runner,
real signals and real sockets, faults injected under open-loop checkout load, then the
books checked through the services' APIs. And the proof it can fail: with compensation
broken on purpose, the run fails naming the orders whose stock is still held.

The full suite (every fault, four variants) is ``make chaos``. Cases held: R-E38 (a
service killed under load, restarted, nothing missing or doubled), R-E41 (the only replica
gone: fail fast), R-E43 (latency, a cut, a one-way partition; recovery without a restart),
R-G53 (the event log gapless and agreeing with every order through crashes).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from loadtest.chaos import report
from loadtest.chaos.cli import QUICK_SETTINGS
from loadtest.chaos.faults import QUICK
from loadtest.chaos.figures import PhaseResult
from loadtest.chaos.invariants import NOTHING_HELD_FOR_FAILED
from loadtest.chaos.suite import ChaosReport, Plan, run_suite

pytestmark = pytest.mark.slow


async def _run(tmp_path: Path, plan: Plan) -> tuple[ChaosReport, dict[str, PhaseResult]]:
    said: list[str] = []
    result = await run_suite(plan, tmp_path, said.append)
    [variant] = result.variants
    assert not variant.error, report.render(result)
    assert not variant.not_run, report.render(result)
    return result, {phase.fault: phase for phase in variant.phases}


@pytest.mark.timeout(300)
async def test_quick_chaos_over_grpc_holds_every_invariant(tmp_path: Path) -> None:
    """Orders killed mid-saga, SIGTERM under load, payments hung, the inventory link cut,
    payments' replies lost and duplicate deliveries: each fault costs failures, the runner
    restarts what died, interrupted sagas are finished, charges whose replies were lost are
    refunded, and every invariant and expectation holds."""
    result, phases = await _run(tmp_path, Plan(("grpc",), QUICK, QUICK_SETTINGS))

    assert result.passed, report.render(result)
    assert list(phases) == list(QUICK)
    assert all(phase.operations > 0 and phase.confirmed > 0 for phase in phases.values())
    assert sum(phases["baseline"].failures.values()) == 0
    assert phases["baseline"].declined > 0  # compensation runs even without a fault
    assert phases["kill-orders"].failures.get("UNAVAILABLE", 0) > 0
    assert any("orders back after" in note for note in phases["kill-orders"].notes)
    assert any("sent before the signal succeeded" in n for n in phases["term-orders"].notes)
    assert phases["hang-payments"].failures.get("DEADLINE_EXCEEDED", 0) > 0
    assert phases["hang-payments"].recovered > 0  # compensated after SIGCONT
    assert phases["cut-inventory"].recovered > 0
    assert phases["one-way-payments"].refunded > 0  # charged, reply lost, found by key
    assert any("duplicate deliveries" in note for note in phases["duplicates"].notes)


@pytest.mark.timeout(240)
async def test_quick_chaos_over_rest_holds_every_invariant(tmp_path: Path) -> None:
    """The REST baseline mesh through the same faults on orders: killed mid-saga and
    duplicate deliveries; every invariant holds."""
    faults = ("baseline", "kill-orders", "duplicates")
    result, phases = await _run(tmp_path, Plan(("rest",), faults, QUICK_SETTINGS))

    assert result.passed, report.render(result)
    assert phases["kill-orders"].failures.get("UNAVAILABLE", 0) > 0
    assert all(phase.operations > 0 for phase in phases.values())


@pytest.mark.timeout(180)
async def test_a_broken_compensation_fails_the_run_naming_the_orders(tmp_path: Path) -> None:
    """With SHOPMESH_ORDERS_SKIP_STOCK_RELEASE=1 every declined order keeps its stock
    held: the run fails on exactly that invariant, naming each of those orders."""
    plan = Plan(
        ("grpc",),
        ("baseline",),
        QUICK_SETTINGS,
        orders_env={"SHOPMESH_ORDERS_SKIP_STOCK_RELEASE": "1"},
    )
    result, phases = await _run(tmp_path, plan)

    assert not result.passed
    baseline = phases["baseline"]
    assert baseline.declined > 0
    [violation] = baseline.violations
    assert violation.invariant == NOTHING_HELD_FOR_FAILED
    assert len(violation.ids) == baseline.declined
    assert all(order_id.startswith("ord_") for order_id in violation.ids)
    assert violation.ids[0] in report.render(result)
