"""A whole run: start (or reach) the meshes, drive every scenario's arms one after the
other with a progress bar, measure server CPU per message of each pricing implementation
(when asked), and collect one ``RunResult``."""

from __future__ import annotations

import dataclasses
import datetime
import os
import platform
import random
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from loadtest import message_cost
from loadtest.arms import arms_for
from loadtest.clients import GrpcChannels, HttpClient
from loadtest.local import local_meshes
from loadtest.measure import Load, describe_method, measure_arm
from loadtest.operations import Shop
from loadtest.results import ArmResult, MessageCost, RunResult
from loadtest.schedule import Recording
from loadtest.targets import Targets
from meshkit.manifest import GO, PYTHON, load_manifest


@dataclass(frozen=True)
class Plan:
    scenarios: Sequence[str]
    items: int
    load: Load
    arms: tuple[str, ...] = ()
    """Only these arms (empty: every arm of each scenario)."""
    rates: Mapping[str, float] | None = None
    """Open-loop rate per scenario, overriding ``load.rate_per_s``."""
    impls: tuple[str, ...] = (PYTHON, GO)
    """Run the arms whose pricing and inventory are these implementations."""
    cost: message_cost.CostPlan | None = None
    """Measure server CPU per message of each implementation's pricing (None: don't)."""

    def needed_impls(self) -> tuple[str, ...]:
        """The implementations whose meshes the run must start: those of its arms, and
        every one it measures the message cost of."""
        used = {arm.impl for s in self.scenarios for arm in arms_for(s, self.arms, self.impls)}
        if self.cost is not None:
            used.update(self.impls)
        return tuple(impl for impl in self.impls if impl in used)


@asynccontextmanager
async def reach(
    targets: Targets | None,
    data_dir: Path,
    env: Mapping[str, str],
    console: Console,
    impls: Sequence[str] = (PYTHON,),
) -> AsyncIterator[Targets]:
    """The given targets, or meshes started here for the duration of the block (with Go
    pricing and inventory too when ``impls`` has ``go``)."""
    if targets is not None:
        yield targets
        return
    go = " and both again with Go pricing and inventory" if GO in impls else ""
    console.print(f"starting the gRPC mesh, the gateway and the REST mesh{go} ...")
    async with local_meshes(data_dir, env, impls=impls, on_stopped=console.print) as started:
        processes = len(started.pids) + sum(len(t.pids) for t in started.alternatives.values())
        console.print(f"{processes} processes serving")
        yield started


async def execute(
    plan: Plan, targets: Targets, console: Console, *, netns: bool, notes: Sequence[str] = ()
) -> RunResult:
    run_id = f"{random.getrandbits(32):08x}"
    channels = GrpcChannels(targets)
    pooled = HttpClient(targets, new_connection=False)
    fresh = HttpClient(targets, new_connection=True)
    shops: dict[str, Shop] = {}
    started_at = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    arms: list[ArmResult] = []
    costs: list[MessageCost] = []
    try:
        with Progress(
            TextColumn("{task.description:<34}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        ) as progress:
            for scenario in plan.scenarios:
                load = plan.load
                if plan.rates and scenario in plan.rates:
                    load = dataclasses.replace(load, rate_per_s=plan.rates[scenario])
                for arm in arms_for(scenario, plan.arms, plan.impls):
                    expected = _expected_measured(load)
                    task = progress.add_task(f"{scenario} · {arm.name}", total=expected)
                    arm_targets = targets.for_impl(arm.impl)
                    if arm.impl not in shops:
                        shops[arm.impl] = Shop(arm_targets, channels, pooled, fresh)
                    result = await measure_arm(
                        shops[arm.impl],
                        arm_targets,
                        arm,
                        scenario,
                        plan.items,
                        load,
                        f"{run_id}.{scenario}.{arm.name}",
                        netns=netns,
                        pooled=pooled,
                        on_progress=_advance(progress, task),
                    )
                    progress.update(task, completed=result.operations, total=result.operations)
                    arms.append(result)
            if plan.cost is not None:
                costs = await message_cost.measure(
                    plan.cost, targets, plan.needed_impls(), channels, pooled, progress
                )
    finally:
        await channels.close()
        await pooled.close()
        await fresh.close()
    return RunResult(
        started_at=started_at,
        settings=_settings(plan),
        environment=_environment(netns, targets),
        arms=arms,
        method=_method(netns, targets, costs),
        notes=list(notes),
        message_costs=costs,
    )


def _advance(progress: Progress, task: TaskID) -> Callable[[Recording], None]:
    def advance(recording: Recording) -> None:
        progress.update(task, completed=recording.operations)

    return advance


def _expected_measured(load: Load) -> int | None:
    if load.max_operations:
        return load.max_operations
    if load.model == "open":
        return int(load.rate_per_s * load.duration_s)
    return None


def _settings(plan: Plan) -> dict[str, Any]:
    load = plan.load
    settings: dict[str, Any] = {
        "scenarios": list(plan.scenarios),
        "items": plan.items,
        "model": load.model,
        "duration_s": load.duration_s,
        "warmup_s": load.warmup_s,
    }
    if load.model == "open":
        settings["rate_per_s"] = dict(plan.rates) if plan.rates else load.rate_per_s
    else:
        settings["concurrency"] = load.concurrency
    if load.max_operations:
        settings["max_operations"] = load.max_operations
    if plan.arms:
        settings["arms"] = list(plan.arms)
    settings["implementations"] = list(plan.impls)
    if plan.cost is not None:
        settings["message_cost"] = dataclasses.asdict(plan.cost)
    return settings


def _method(netns: bool, targets: Targets, costs: Sequence[MessageCost]) -> dict[str, str]:
    method = describe_method(netns, targets)
    if costs:
        method["message_cost"] = message_cost.METHOD
    return method


def _environment(netns: bool, targets: Targets) -> dict[str, Any]:
    environment = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "grpcio": grpc.__version__,
        "platform": platform.platform(),
        "targets": "started locally" if targets.local else "given",
        "private_netns": netns,
        "argv": " ".join(sys.argv[1:]),
    }
    if GO in targets.alternatives and targets.local:
        environment["go"] = _go_build_version()
    return environment


def _go_build_version() -> str:
    """The Go toolchain that built the Go pricing binary (``go version BINARY``)."""
    spec = load_manifest().service("pricing")
    go = shutil.which("go")
    if spec.go is None or go is None:
        return "unknown"
    done = subprocess.run(  # noqa: S603 - our own argv
        [go, "version", str(spec.go.binary_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    return done.stdout.rpartition(": ")[2].strip() or "unknown"
