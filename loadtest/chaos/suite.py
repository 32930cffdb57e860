"""A whole chaos run: for each variant a fresh mesh, for each fault a phase, one report.

A variant that cannot run on this machine (Go not built, moto missing) and a fault a
variant does not run are reported as "not run" with the reason; they never count as
passed, and they do not fail the run. Everything else must pass: no invariant violated,
every expectation of its fault met.
"""

from __future__ import annotations

import datetime
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TextIO

from loadtest.chaos.faults import CATALOGUE, SMALL, Fault
from loadtest.chaos.figures import PhaseResult
from loadtest.chaos.mesh import VARIANTS, ChaosMesh, Variant, cannot_run, chaos_mesh
from loadtest.chaos.scenario import Phase, Run, Settings
from loadtest.operations import ACTIVE_PRODUCTS
from runner import PreflightError, ServiceFailed

ACTIVE_SKUS = tuple(f"SKU-{n:05d}" for n in ACTIVE_PRODUCTS)
DYNAMODB_RATE_PER_S = 2.0
DYNAMODB_DEADLINE_S = 5.0
"""A checkout takes ~0.4 s on the serial moto server: slower load, longer deadlines."""
SMALL_REASON = (
    "the DynamoDB variant is kept small: the local moto server answers one request at a time"
)


@dataclass(frozen=True)
class Plan:
    variants: Sequence[str]
    faults: Sequence[str]
    settings: Settings = field(default_factory=Settings)
    orders_env: Mapping[str, str] = field(default_factory=dict)
    """Extra settings for orders alone (a fault-injection switch, to prove a failure)."""


@dataclass
class VariantResult:
    variant: str
    phases: list[PhaseResult] = field(default_factory=list)
    not_run: str = ""
    error: str = ""
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.error and all(p.passed or p.not_run for p in self.phases)


@dataclass
class ChaosReport:
    started_at: str
    machine: dict[str, str]
    settings: dict[str, object]
    variants: list[VariantResult]

    @property
    def passed(self) -> bool:
        return all(v.passed for v in self.variants)


async def run_suite(plan: Plan, out: Path, say: Callable[[str], None]) -> ChaosReport:
    """Runs every variant of ``plan`` in turn; logs go to ``out/<variant>.log``."""
    started = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    out.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - once, before any load
    results = []
    for name in plan.variants:
        variant = VARIANTS[name]
        reason = cannot_run(variant)
        if reason is not None:
            say(f"{name}: not run: {reason}")
            results.append(VariantResult(name, not_run=reason))
            continue
        results.append(await _run_variant(plan, variant, out, say))
    return ChaosReport(started, _machine(), _settings(plan), results)


async def _run_variant(
    plan: Plan, variant: Variant, out: Path, say: Callable[[str], None]
) -> VariantResult:
    began = time.monotonic()
    result = VariantResult(variant.name)
    faults = [CATALOGUE[name] for name in plan.faults]
    settings = plan.settings
    skipped: set[str] = set()
    if variant.storage == "dynamodb":
        settings = replace(
            settings,
            rate_per_s=min(settings.rate_per_s, DYNAMODB_RATE_PER_S),
            deadline_s=max(settings.deadline_s, DYNAMODB_DEADLINE_S),
        )
        skipped = {f.name for f in faults if f.name not in SMALL}
    data_dir = Path(tempfile.mkdtemp(prefix=f"data-{variant.name}-", dir=out))
    say(f"{variant.name}: starting the mesh (logs: {out / (variant.name + '.log')})")
    with (out / f"{variant.name}.log").open("w", encoding="utf-8") as log:
        try:
            async with chaos_mesh(
                variant,
                data_dir,
                orders_env=plan.orders_env,
                on_log=lambda name, line: _write(log, f"{name} | {line}"),
                on_event=lambda line: _write(log, f"mesh | {line}"),
            ) as mesh:
                ran = [f for f in faults if f.name not in skipped]
                done = {p.fault: p for p in await _phases(mesh, ran, settings, variant, say)}
        except (PreflightError, ServiceFailed) as exc:
            result.error = f"the mesh did not start: {exc}"
            say(f"{variant.name}: {result.error}")
            done = {}
    result.phases = [
        done.get(f.name) or PhaseResult(f.name, f.what, not_run=SMALL_REASON)
        for f in faults
        if f.name in done or f.name in skipped
    ]
    result.seconds = time.monotonic() - began
    if result.passed:
        shutil.rmtree(data_dir, ignore_errors=True)
    return result


async def _phases(
    mesh: ChaosMesh,
    faults: Sequence[Fault],
    settings: Settings,
    variant: Variant,
    say: Callable[[str], None],
) -> list[PhaseResult]:
    checkout, books = mesh.checkout(), mesh.books()
    pools = _pools(len(faults))
    run = Run(f"c{os.getpid():x}{int(time.time()) % 100000:05d}", checkout, books, settings)
    try:
        for sku in ACTIVE_SKUS:
            run.seeded[sku] = (await books.stock(sku)).total
        results = []
        for index, fault in enumerate(faults):
            say(f"{variant.name} · {fault.name}: {fault.what}")
            phase = await Phase(run, mesh, fault, pools[index], index).run_phase()
            say(f"{variant.name} · {fault.name}: {_line(phase)}")
            results.append(phase)
        return results
    finally:
        await checkout.close()
        await books.close()


def _pools(count: int) -> list[tuple[str, ...]]:
    """One SKU pool per phase, disjoint, as large as the active products allow."""
    size = len(ACTIVE_SKUS) // max(count, 1)
    return [ACTIVE_SKUS[i * size : (i + 1) * size] for i in range(count)]


def _line(phase: PhaseResult) -> str:
    verdict = "passed" if phase.passed else "FAILED"
    failed = sum(phase.failures.values())
    return (
        f"{phase.operations} sent, {phase.confirmed} confirmed, {phase.declined} declined,"
        f" {failed} failed, {phase.recovered} recovered, {len(phase.violations)} violation(s)"
        f" — {verdict}"
    )


def _write(log: TextIO, line: str) -> None:
    log.write(line + "\n")


def _machine() -> dict[str, str]:
    """The machine, and how busy it was when the run began (others may share it)."""
    return {
        "cpus": str(os.cpu_count()),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "load_average": " ".join(f"{n:.2f}" for n in os.getloadavg()),
    }


def _settings(plan: Plan) -> dict[str, object]:
    s = plan.settings
    found: dict[str, object] = {
        "rate_per_s": s.rate_per_s,
        "items": s.items,
        "pre_s": s.pre_s,
        "hold_s": s.hold_s,
        "post_s": s.post_s,
        "deadline_s": s.deadline_s,
        "decline_every": s.decline_every,
        "dynamodb_rate_per_s": min(s.rate_per_s, DYNAMODB_RATE_PER_S),
        "dynamodb_deadline_s": max(s.deadline_s, DYNAMODB_DEADLINE_S),
    }
    if plan.orders_env:
        found["orders_env"] = dict(plan.orders_env)
    return found
