"""Every arm of every scenario runs end to end from the command line (seconds, loopback),
the Go arms (pricing and inventory in Go) included, and its chattiness is the scenario's
arithmetic, counted by the hops themselves; the message-cost measurement runs against
both pricing implementations."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from loadtest.results import RunResult

ITEMS = 3
# Internal calls per checkout of N items, by arm: streams and batches are 4 whatever N;
# per item, N lookups + N quotes + N reservations + 1 charge; the gateway adds its hop.
CHECKOUT_CALLS = {
    "grpc-stream": 4,
    "grpc-batch": 4,
    "grpc-unary": 3 * ITEMS + 1,
    "rest-item": 3 * ITEMS + 1,
    "rest-item-newconn": 3 * ITEMS + 1,
    "rest-batch": 4,
    "gateway": 5,
    "grpc-stream-go": 4,
    "grpc-batch-go": 4,
    "rest-item-go": 3 * ITEMS + 1,
    "rest-batch-go": 4,
}
POOLED = ("grpc-stream", "grpc-batch", "grpc-unary", "rest-item", "rest-batch", "gateway",
          "grpc-stream-go", "grpc-batch-go", "rest-item-go", "rest-batch-go")  # fmt: skip
COST_MESSAGES = 200


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    folder = tmp_path_factory.mktemp("loadtest")
    command = [
        sys.executable, "-m", "loadtest", "run",
        "--scenarios", "checkout,lookup,quote-stream,mix",
        "--items", str(ITEMS),
        "--model", "closed", "--concurrency", "2",
        "--max-ops", "8", "--duration", "5", "--warmup", "0.5",
        "--impls", "python,go", "--cost-messages", str(COST_MESSAGES),
        "--data-dir", str(folder / "data"), "--out", str(folder), "--name", "smoke",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "report:" in done.stdout
    stopped = re.search(r"stopped (\d+) service\(s\) in [\d.]+s: (\d+) cleanly", done.stdout)
    assert stopped is not None, done.stdout[-3000:]
    assert stopped.group(1) == stopped.group(2)  # every process of all meshes stopped cleanly
    for kind in ("md", "html"):
        assert (folder / f"smoke.{kind}").stat().st_size > 1000
    return RunResult.load(folder / "smoke.json")


def _arm(run: RunResult, scenario: str, name: str) -> object:
    return next(a for a in run.arms if a.scenario == scenario and a.name == name)


def test_every_arm_of_every_scenario_succeeded(run: RunResult) -> None:
    """Lookups 4 arms, checkouts and quotes 7 Python and 4 Go each, the mix 7: every
    operation answered right (a wrong reply counts as a failure)."""
    assert [(a.scenario, a.name) for a in run.arms if a.scenario == "lookup"] == [
        ("lookup", name) for name in ("grpc-unary", "rest-item", "rest-item-newconn", "gateway")
    ]
    assert len(run.arms) == 4 + 11 * 2 + 7
    for arm in run.arms:
        assert arm.operations == arm.ok >= 8, (arm.scenario, arm.name, arm.errors)
        assert arm.summaries["corrected"]["count"] == arm.operations


@pytest.mark.parametrize("name", list(CHECKOUT_CALLS))
def test_checkout_chattiness_is_the_arithmetic_of_n_items(run: RunResult, name: str) -> None:
    """Calls per checkout are exactly 4 (streams, batch), 3N+1 (per item) or 5 (gateway)."""
    arm = _arm(run, "checkout", name)
    assert arm.chattiness.calls == CHECKOUT_CALLS[name]  # type: ignore[attr-defined]


def test_lookups_make_no_internal_call_except_through_the_gateway(run: RunResult) -> None:
    """A product lookup is the loader's one call; the gateway adds exactly one hop."""
    calls = {a.name: a.chattiness.calls for a in run.arms if a.scenario == "lookup"}
    assert calls == {"grpc-unary": 0, "rest-item": 0, "rest-item-newconn": 0, "gateway": 1}


def test_connections_are_counted_by_the_kernel_when_the_run_had_its_own_netns(
    run: RunResult,
) -> None:
    """In a private network namespace: pooled arms open ~no connection per checkout,
    the new-connection arm one per request (3N+1 internal + the loader's); without one,
    the figures are absent and the run says why, rather than guessed."""
    if not run.environment["private_netns"]:
        assert all(a.chattiness.new_connections is None for a in run.arms)
        assert any("network namespace" in note for note in run.notes)
        return
    checkout = {a.name: a for a in run.arms if a.scenario == "checkout"}
    for name in POOLED:
        opened = checkout[name].chattiness.new_connections
        assert opened is not None
        assert opened < 0.5, name
    opened = checkout["rest-item-newconn"].chattiness.new_connections
    assert opened is not None
    assert opened >= 3 * ITEMS + 2
    streams = checkout["grpc-stream"].chattiness.wire_bytes
    per_item = checkout["rest-item"].chattiness.wire_bytes
    assert streams is not None
    assert per_item is not None
    assert 0 < streams < per_item


def test_diff_of_a_run_with_itself_reports_no_change(run: RunResult, tmp_path: Path) -> None:
    """``diff`` of one report against itself finds every figure the same."""
    path = tmp_path / "a.json"
    run.save(path)
    done = subprocess.run(
        [sys.executable, "-m", "loadtest", "diff", str(path), str(path)],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    changes = [
        line.rsplit("|", 2)[-2].strip()
        for line in done.stdout.splitlines()
        if line.startswith("| ") and not line.startswith(("| figure", "| ---"))
    ]
    assert len(changes) > 20 * len(run.arms) // 2
    assert set(changes) <= {"same", "not measured"}
    assert json.loads(path.read_text())["schema"] == "shopmesh-loadtest/1"


def test_message_costs_were_measured_for_both_pricing_implementations(run: RunResult) -> None:
    """Three workloads against the Python and the Go pricing, every message answered, with
    the process's CPU read from /proc."""
    costs = {(c.workload, c.impl): c for c in run.message_costs}
    assert set(costs) == {
        (workload, impl)
        for workload in ("grpc-stream", "grpc-unary", "rest-item")
        for impl in ("python", "go")
    }
    for cost in costs.values():
        assert cost.errors == 0, cost
        assert cost.messages == (COST_MESSAGES if cost.workload == "grpc-stream" else 40)
        assert cost.server_cpu_s >= 0
        assert cost.wall_s > 0
    assert run.environment["go"].startswith("go1.")
