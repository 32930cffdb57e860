"""The Go variants of the load test: which arms run, the goals judged once per language,
the Python-vs-Go table of server CPU per message, and how message costs are stored,
merged and given for running meshes."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from loadtest import message_cost
from loadtest.arms import ARMS, arms_for
from loadtest.cli import _cost_plan, _targets_file
from loadtest.report import merge_runs, render_markdown, render_terminal
from loadtest.report.goals import GO_SERVICES, goal_blocks, goal_rows
from loadtest.report.polyglot import polyglot_rows
from loadtest.results import ArmResult, Chattiness, Cpu, MessageCost, RunResult
from loadtest.targets import Targets
from tests.unit.loadtest_report_fakes import arm, run

GO_ARMS = ["grpc-stream-go", "grpc-batch-go", "rest-item-go", "rest-batch-go"]


def test_go_arms_repeat_four_shapes_with_go_pricing_and_inventory() -> None:
    """grpc-stream, grpc-batch, rest-item and rest-batch each have a Go twin: same
    protocol, orders process and shape, implementation go."""
    for name in GO_ARMS:
        twin, python = ARMS[name], ARMS[name.removesuffix("-go")]
        assert (twin.protocol, twin.orders, twin.shape) == (
            python.protocol,
            python.orders,
            python.shape,
        )
        assert (twin.impl, python.impl) == ("go", "python")


def test_scenarios_choose_arms_by_implementation() -> None:
    """Checkout and quotes run the Go arms after the Python ones; lookups and the mix have
    none (the catalog is Python only); choosing Python only drops them."""
    checkout = [a.name for a in arms_for("checkout")]
    assert checkout[-4:] == GO_ARMS
    assert [a.name for a in arms_for("quote-stream")][-4:] == GO_ARMS
    assert not any(a.impl == "go" for s in ("lookup", "mix") for a in arms_for(s))
    assert [a.name for a in arms_for("checkout", impls=("python",))] == checkout[:-4]
    assert [a.name for a in arms_for("checkout", ("rest-item-go",))] == ["rest-item-go"]


def test_naming_an_arm_of_an_implementation_not_run_is_an_error() -> None:
    """--arms grpc-stream-go with --impls python cannot run: said, not silently dropped."""
    with pytest.raises(ValueError, match="add --impls go"):
        arms_for("checkout", ("grpc-stream-go",), impls=("python",))


def _checkout(name: str, p99_ms: float, per_core: float, calls: float) -> ArmResult:
    return arm(
        name,
        latencies_ms=[p99_ms] * 100,
        chattiness=Chattiness(calls=calls, new_connections=0.0, wire_bytes=1000.0),
        per_core=per_core,
    )


def _two_languages() -> RunResult:
    return run(
        _checkout("grpc-stream", 10.0, 45.0, 4.0),
        _checkout("rest-item", 10.0, 64.0, 31.0),
        _checkout("grpc-stream-go", 5.0, 150.0, 4.0),
        _checkout("rest-item-go", 10.0, 100.0, 31.0),
    )


def test_goals_are_judged_once_per_language_on_its_own_arms() -> None:
    """The Go block compares grpc-stream-go with rest-item-go only, with no goal for arms
    the Go mesh does not run (new connection, unary, gateway)."""
    blocks = goal_blocks(_two_languages())
    assert [language.impl for language, _ in blocks] == ["python", "go"]
    go_rows = {row.goal: row for row in goal_rows(_two_languages(), GO_SERVICES)}
    p99 = go_rows["p99 latency (corrected): grpc-stream-go ≤ 0.7 x rest-item-go"]
    assert p99.measured == pytest.approx(0.5, rel=0.01)
    assert p99.met is True
    per_core = go_rows["throughput per server core: grpc-stream-go ≥ 1.5 x rest-item-go"]
    assert per_core.measured == pytest.approx(1.5)
    assert per_core.met is True
    assert not any(name in goal for goal in go_rows for name in ("newconn", "unary", "gateway"))
    assert "grpc-batch-go: conns/op < 0.01 (none)" not in go_rows  # as for Python: not pooled


def test_a_run_without_go_arms_has_only_the_python_goals() -> None:
    """No Go checkout arm, no Go block (rather than a block of undecided goals)."""
    python_only = run(*(a for a in _two_languages().arms if not a.name.endswith("-go")))
    assert [language.impl for language, _ in goal_blocks(python_only)] == ["python"]


def _costs() -> list[MessageCost]:
    return [
        MessageCost("grpc-stream", "python", 20_000, 4.0, 8.0),
        MessageCost("grpc-stream", "go", 20_000, 2.0, 4.0),
        MessageCost("grpc-unary", "python", 4_000, 1.6, 2.0),
        MessageCost("grpc-unary", "go", 4_000, 0.4, 1.0, errors=2),
        MessageCost("rest-item", "python", 4_000, 0.8, 2.0),
        MessageCost("rest-item", "go", 4_000, 0.8, 1.0),
    ]


def _quotes(name: str, pricing_s: float, process: str = "pricing") -> ArmResult:
    return arm(
        name,
        scenario="quote-stream",
        model="open",
        cpu=Cpu(server_s=pricing_s, by_process={process: pricing_s}),
    )


def test_python_vs_go_table_sets_both_languages_side_by_side() -> None:
    """Per workload: each language's µs per message, Go over Python and messages/s;
    the quote-stream arms' pricing CPU per line; then what a stream message costs
    relative to a REST request in each language."""
    arms = [
        _quotes("grpc-stream", 0.0025),
        _quotes("grpc-stream-go", 0.001),
        _quotes("rest-item", 0.002, "pricing-rest"),
        _quotes("rest-item-go", 0.0005, "pricing-rest"),
    ]
    rows = polyglot_rows(RunResult("t", {}, {}, arms, message_costs=_costs()))
    by_title = {row[0].split(" (")[0].split(",")[0]: row for row in rows}
    assert by_title["gRPC QuoteStream message"][1:] == ["200", "100", "0.50", "2,500", "5,000"]
    assert by_title["gRPC Quote call"][0].endswith("2 errors")
    assert by_title["gRPC Quote call"][1:4] == ["400", "100", "0.25"]
    assert by_title["quote-stream arm grpc-stream: per quote line"][1:4] == ["250", "100", "0.40"]
    assert by_title["quote-stream arm rest-item: per quote line"][1:4] == ["200", "50", "0.25"]
    assert "quote-stream arm grpc-batch: per quote line" not in by_title  # no Go arm
    assert by_title["gRPC stream message ÷ REST request"][1:3] == ["1.00 x", "0.50 x"]


def test_a_python_only_run_has_no_python_vs_go_table() -> None:
    """Neither costs nor Go arms: no table (not a table of dashes)."""
    assert polyglot_rows(run(_quotes("grpc-stream", 0.0025))) == []


def test_reports_print_the_table_and_a_goals_block_per_language() -> None:
    """The terminal and the Markdown both carry the Python-vs-Go table and one goals
    block per language."""
    sample = _two_languages()
    sample.message_costs = _costs()
    console = Console(file=io.StringIO(), width=260)
    render_terminal(sample, console)
    assert isinstance(console.file, io.StringIO)
    printed = console.file.getvalue()
    assert "Python vs Go: server CPU per message" in printed
    assert "Goals (checkout, all services in Python)" in printed
    assert "Goals (checkout, pricing and inventory in Go)" in printed
    markdown = render_markdown(sample)
    assert "## Python vs Go: server CPU per message" in markdown
    assert "### All services in Python" in markdown
    assert "### Pricing and inventory in Go" in markdown


def test_message_costs_survive_the_json_and_add_up_when_runs_merge(tmp_path: Path) -> None:
    """Saved and loaded unchanged; merging two runs adds messages, CPU, time and errors,
    so the merged cost per message is total CPU over total messages."""
    first = _two_languages()
    first.message_costs = _costs()
    path = tmp_path / "run.json"
    first.save(path)
    loaded = RunResult.load(path)
    assert loaded.message_costs == first.message_costs
    merged = merge_runs([loaded, loaded])
    stream_go = next(
        c for c in merged.message_costs if (c.workload, c.impl) == ("grpc-stream", "go")
    )
    assert (stream_go.messages, stream_go.server_cpu_s, stream_go.wall_s) == (40_000, 4.0, 8.0)
    assert stream_go.cpu_us_per_message == pytest.approx(100.0)
    unary_go = next(c for c in merged.message_costs if (c.workload, c.impl) == ("grpc-unary", "go"))
    assert unary_go.errors == 4


def test_a_report_without_message_costs_still_loads() -> None:
    """Reports written before message costs existed load with none."""
    document = json.loads(_two_languages().to_json())
    del document["message_costs"]
    assert RunResult.from_dict(document).message_costs == []


def test_targets_file_gives_the_go_meshes_under_go(tmp_path: Path) -> None:
    """A ``go`` key holds the Go meshes' targets in the same shape; arms find theirs."""
    path = tmp_path / "targets.json"
    path.write_text(
        json.dumps(
            {
                "grpc": {"orders": "orders:50055"},
                "go": {"grpc": {"orders": "orders-go:50055"}, "rest": {"pricing": "http://p"}},
            }
        )
    )
    targets = _targets_file(path)
    assert targets.for_impl("python").grpc == {"orders": "orders:50055"}
    assert targets.for_impl("go").grpc == {"orders": "orders-go:50055"}
    with pytest.raises(ValueError, match="no targets for the go arms"):
        Targets().for_impl("go")


async def test_message_cost_calls_are_spread_over_workers_and_failures_counted() -> None:
    """``count`` calls, split over the workers to the last one; a call that raises or
    answers wrong is not answered, and the measurement goes on."""
    made = 0

    async def call() -> bool:
        nonlocal made
        made += 1
        if made % 5 == 0:
            raise RuntimeError("refused")
        return made % 7 != 0

    answered = await asyncio.wait_for(message_cost._spread(23, 4, call), timeout=5)
    assert made == 23
    assert answered == 23 - 4 - 3  # 5, 10, 15, 20 raised; 7, 14, 21 answered wrong


def test_cost_messages_choose_the_three_workloads_sizes() -> None:
    """--cost-messages N: N stream messages and a fifth as many unary and REST calls;
    0 skips the measurement."""
    assert _cost_plan(0) is None
    plan = _cost_plan(20_000)
    assert plan is not None
    counts = [plan.count(w) for w in message_cost.WORKLOADS]
    assert counts == [20_000, 4_000, 4_000]
