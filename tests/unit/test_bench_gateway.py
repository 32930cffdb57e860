"""Pure helpers of tools.bench_gateway: environments, commands, pairing, checks, the docs."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest
from shopmesh.catalog.v1 import catalog_pb2

from tools import bench_gateway
from tools.bench import gateway_report, gateway_stack, h2load, h2load_paths, http_loader
from tools.bench.gateway_stats import (
    CATALOG,
    DIRECT,
    GATEWAY,
    GRPC_GATEWAY,
    LATENCY,
    STREAM,
    UNARY,
    PathSample,
    added_p50,
    make_sample,
    ratios,
    summarize,
    versus_reference,
)
from tools.bench.http_loader import CallFailed, LoopResult, Outcome
from tools.bench.loader import BENCH_SKU


def _run(calls: int, *, p50: float = 1.0, messages: int | None = None) -> LoopResult:
    return LoopResult(
        calls=calls,
        messages=calls if messages is None else messages,
        errors=0,
        window_s=2.0,
        p50_ms=p50,
        p99_ms=p50 * 2,
        first_p50_ms=p50 / 2,
        server_cpu_s={GATEWAY: 0.5, gateway_stack.CATALOG: 1.0},
        loader_cpu_s=0.2,
        cpu_interval_s=2.0,
    )


def _sample(scenario: str, path: str, round_: int, calls: int, p50: float = 1.0) -> PathSample:
    return make_sample(scenario, path, round_, 16, _run(calls, p50=p50))


def test_base_env_drops_every_setting_the_benchmark_owns() -> None:
    """SHOPMESH_*, GATEWAY_* and OTEL_* from the caller's shell never reach the servers."""
    env = {
        "PATH": "/bin",
        "SHOPMESH_ACCESS_LOG": "0",
        "GATEWAY_CACHE_TTLS": "/v1=60",
        "OTEL_TRACES_EXPORTER": "console",
    }
    assert gateway_stack.base_env(env) == {"PATH": "/bin"}


def test_catalog_env_keeps_the_access_log_on_and_listens_on_loopback() -> None:
    """The catalog runs as in production, on the given ports, with no drain delay."""
    env = gateway_stack.catalog_env({"SHOPMESH_ACCESS_LOG": "0"}, grpc_port=1, health_port=2)
    assert env["SHOPMESH_ACCESS_LOG"] == "1"
    assert (env["SHOPMESH_HOST"], env["SHOPMESH_GRPC_PORT"], env["SHOPMESH_HEALTH_PORT"]) == (
        "127.0.0.1",
        "1",
        "2",
    )
    assert env["SHOPMESH_DRAIN_DELAY_S"] == "0"


def test_gateway_env_points_at_the_catalog_and_switches_rate_limiting_off() -> None:
    """Only the catalog address is real; rate limiting is off and the cap out of reach."""
    env = gateway_stack.gateway_env(
        {"GATEWAY_CACHE_TTLS": "/v1=60"},
        port=8080,
        catalog_target="127.0.0.1:5000",
        services=["catalog", "pricing", "orders"],
    )
    assert env["SHOPMESH_CATALOG_ADDR"] == "127.0.0.1:5000"
    assert env["SHOPMESH_PRICING_ADDR"] == env["SHOPMESH_ORDERS_ADDR"] == "127.0.0.1:1"
    assert env["GATEWAY_RATE_LIMIT_PER_S"] == "0"
    assert int(env["GATEWAY_MAX_CONCURRENCY"]) > max(bench_gateway.DEFAULT_UNARY_CONCURRENCY)
    assert "GATEWAY_CACHE_TTLS" not in env  # the response cache stays off
    assert (env["GATEWAY_HOST"], env["GATEWAY_PORT"]) == ("127.0.0.1", "8080")


def test_free_ports_are_distinct() -> None:
    """Three ports for one stack never collide with each other."""
    ports = gateway_stack.free_ports(3)
    assert len(set(ports)) == 3


def test_http1_command_opens_one_keep_alive_connection_per_request_in_flight() -> None:
    """h2load speaks HTTP/1.1 without pipelining, so connections = requests in flight."""
    argv = h2load_paths.http1_command(
        "h2load", "http://h/v1/p", Path("log"), connections=64, warmup_s=1.0, duration_s=2.5
    )
    assert "--h1" in argv
    assert "--clients=64" in argv
    assert "--max-concurrent-streams=1" in argv
    assert "--warm-up-time=1000ms" in argv
    assert "--duration=2500ms" in argv
    assert "--log-file=log" in argv
    assert argv[-1] == "http://h/v1/p"


def test_grpc_command_is_the_runtime_benchmarks_with_its_body_written(tmp_path: Path) -> None:
    """The direct path reuses tools.bench.h2load's command and request frame."""
    argv = h2load_paths.grpc_command(
        "h2load", "127.0.0.1:1", tmp_path, Path("log"), concurrency=16, warmup_s=1, duration_s=3
    )
    body = tmp_path / "request.grpc"
    assert argv == h2load.command(
        "h2load", "127.0.0.1:1", body, Path("log"), concurrency=16, warmup_s=1, duration_s=3
    )
    assert catalog_pb2.GetProductRequest.FromString(body.read_bytes()[5:]).sku == BENCH_SKU


def test_make_sample_reports_cpu_per_call_for_each_process() -> None:
    """Rates use the window; CPU per call is each process's cores over the call rate."""
    sample = make_sample(UNARY, GATEWAY, 1, 16, _run(2000, messages=4000))
    assert sample.sample.rps == 1000
    assert sample.messages_per_s == 2000
    assert sample.server_cores == {GATEWAY: 0.25, gateway_stack.CATALOG: 0.5}
    assert sample.server_cpu_us == {GATEWAY: 250.0, gateway_stack.CATALOG: 500.0}
    assert sample.sample.server_cpu_us_per_request == 750.0
    assert sample.sample.loader_cpu_util == pytest.approx(0.1)


def test_make_sample_of_a_run_without_calls_has_no_cpu_per_call() -> None:
    """Zero calls give NaN per call rather than a division error."""
    sample = make_sample(STREAM, GATEWAY, 1, 1, _run(0))
    assert math.isnan(sample.server_cpu_us[GATEWAY])


def test_ratios_divide_the_gateway_by_the_direct_path_of_the_same_round() -> None:
    """Each round's ratio uses that round's direct figure; scenarios stay apart."""
    samples = [
        _sample(UNARY, DIRECT, 1, 4000),
        _sample(UNARY, GATEWAY, 1, 2400),
        _sample(UNARY, DIRECT, 2, 2000),
        _sample(UNARY, GATEWAY, 2, 1400),
        _sample(STREAM, GATEWAY, 1, 100),
    ]
    [ratio] = ratios(samples)
    assert (ratio.loader, ratio.arm) == (UNARY, GATEWAY)
    assert ratio.per_round == pytest.approx((0.6, 0.7))


def test_added_p50_pairs_the_paths_within_each_round() -> None:
    """The added p50 is the gateway's p50 minus the direct path's, round by round."""
    samples = [
        _sample(LATENCY, DIRECT, 1, 100, p50=0.6),
        _sample(LATENCY, GATEWAY, 1, 100, p50=1.0),
        _sample(LATENCY, GATEWAY, 2, 100, p50=1.0),
        _sample(LATENCY, DIRECT, 2, 100, p50=0.9),
        _sample(LATENCY, GATEWAY, 3, 100, p50=2.0),  # no direct run in round 3: skipped
    ]
    [delta] = added_p50(samples)
    assert delta.per_round == pytest.approx((0.4, 0.1))
    assert delta.median == pytest.approx(0.25)


def test_summarize_takes_medians_of_per_process_cpu_too() -> None:
    """Per-process figures are medians over rounds, like the shared ones."""
    samples = [_sample(UNARY, GATEWAY, r, calls) for r, calls in ((1, 1000), (2, 4000), (3, 2000))]
    [summary] = summarize(samples)
    assert summary.summary.rps == 1000
    assert summary.server_cpu_us[GATEWAY] == 250.0


def test_goal_lines_mark_each_figure_against_its_goal() -> None:
    """Throughput ratios and the added p50 each get a verdict, with three decimals."""
    samples = [
        _sample(UNARY, DIRECT, 1, 1000),
        _sample(UNARY, GATEWAY, 1, 597),
        _sample(LATENCY, DIRECT, 1, 10, p50=0.5),
        _sample(LATENCY, GATEWAY, 1, 10, p50=0.9),
    ]
    lines = gateway_report.goal_lines(
        ratios(samples), added_p50(samples), min_ratio=0.6, max_added_ms=0.5
    )
    assert lines == [
        "gateway/direct GetProduct req/s with h2load, goal >= 0.6: 16 in flight 0.597 (NOT met)",
        "added p50 at 1 in flight, goal <= 0.5 ms: 0.400 ms (met)",
    ]


def test_tables_show_no_gateway_cpu_for_the_direct_path() -> None:
    """The direct path never touches the gateway, so its gateway columns are blank."""
    samples = [_sample(UNARY, DIRECT, 1, 1000), _sample(UNARY, GATEWAY, 1, 600)]
    table = gateway_report.unary_table(summarize(samples), ratios(samples))
    direct, gateway = table.rows
    assert (direct[1], direct[6], direct[8]) == (DIRECT, "-", "-")
    assert (gateway[1], gateway[3]) == (GATEWAY, "0.60 (0.60)")
    assert gateway_report.text_table(table).startswith(table.title)


def test_update_docs_replaces_only_its_own_block() -> None:
    """The runtime benchmark's block and all prose survive; our block is swapped."""
    old = gateway_report.docs_block(
        command="old", when="then", goals=[], tables=[], notes=[], facts={}
    )
    runtime = "<!-- bench-runtime:begin x -->\nruntime\n<!-- bench-runtime:end -->"
    text = f"# Benchmarks\n\n{runtime}\n\n## Gateway overhead\n\nmethod\n\n{old}\n\nafter\n"
    new = gateway_report.docs_block(
        command="new", when="now", goals=["g"], tables=[], notes=["n"], facts={"nproc": "2"}
    )
    assert gateway_report.update_docs(text, new) == text.replace(old, new)


def test_update_docs_appends_the_section_when_it_is_missing() -> None:
    """A file without our markers gains the section at its end."""
    block = gateway_report.docs_block(
        command="c", when="w", goals=[], tables=[], notes=[], facts={}
    )
    updated = gateway_report.update_docs("# Benchmarks\n\nother\n", block)
    assert updated == f"# Benchmarks\n\nother\n\n{gateway_report.DOCS_SECTION}\n\n{block}\n"


def test_check_product_wants_the_requested_sku() -> None:
    """A product document passes only with a SKU, and the right one when one is asked."""
    http_loader.check_product({"product": {"sku": BENCH_SKU}}, BENCH_SKU)
    http_loader.check_product({"product": {"sku": "SKU-00001"}})
    bad_documents: list[object] = [
        {"product": {"sku": "SKU-00001"}},
        {"code": 5},
        [],
        {"product": "x"},
    ]
    for bad in bad_documents:
        with pytest.raises(CallFailed):
            http_loader.check_product(bad, BENCH_SKU)


def test_check_stream_wants_exactly_limit_result_lines() -> None:
    """Too few lines, or an error line, fail the check."""
    line = {"result": {"product": {"sku": "SKU-00001"}}}
    http_loader.check_stream([line, line], 2)
    with pytest.raises(CallFailed, match="expected 2"):
        http_loader.check_stream([line], 2)
    with pytest.raises(CallFailed, match="result line"):
        http_loader.check_stream([line, {"error": {"code": 13}}], 2)


async def test_counted_loop_measures_every_call_and_counts_failures() -> None:
    """After the warm-up, each call is measured once; failed calls count as errors."""
    answers = iter([True] * 2 + [True, False, True, True])

    async def call() -> Outcome:
        if not next(answers):
            raise CallFailed("no")
        return Outcome(3, 0.0)

    result = await http_loader.counted_loop(call, warmup_calls=2, calls=4, pids={})
    assert (result.calls, result.messages, result.errors) == (3, 9, 1)
    assert result.server_cpu_s == {}


def test_loader_args_refuse_counted_runs_with_several_callers() -> None:
    """--calls measures one call at a time; --pid takes NAME=PID."""
    args = http_loader.parse_args(["rest-unary", "http://h", "--calls=5", "--pid=gateway=12"])
    assert (args.calls, args.pid) == (5, [("gateway", 12)])
    with pytest.raises(SystemExit):
        http_loader.parse_args(["rest-unary", "http://h", "--calls=5", "--concurrency=2"])
    with pytest.raises(SystemExit):
        http_loader.parse_args(["grpc-unary", "h:1", "--pid=12"])


def test_path_order_alternates_between_rounds() -> None:
    """With two paths the direct one goes first in odd rounds, the gateway in even ones;
    with grpc-gateway too, each of the three goes first in turn."""
    two = (DIRECT, GATEWAY)
    assert bench_gateway.path_order(1, two) == (DIRECT, GATEWAY)
    assert bench_gateway.path_order(2, two) == (GATEWAY, DIRECT)
    three = (DIRECT, GATEWAY, GRPC_GATEWAY)
    firsts = [bench_gateway.path_order(r, three)[0] for r in (1, 2, 3, 4)]
    assert firsts == [DIRECT, GATEWAY, GRPC_GATEWAY, DIRECT]
    assert sorted(bench_gateway.path_order(2, three)) == sorted(three)


def test_loader_argv_targets_the_right_server_for_each_path() -> None:
    """REST kinds get the gateway URL, gRPC kinds the catalog; latency runs are counted."""
    args = bench_gateway.parse_args([])
    stack = gateway_stack.Stack(
        pids={GATEWAY: 2, gateway_stack.CATALOG: 1},
        logs={},
        grpc_target="127.0.0.1:5000",
        gateway_url="http://127.0.0.1:8080",
    )
    latency = bench_gateway.loader_argv(args, LATENCY, GATEWAY, stack, 1)
    assert latency[3:5] == [http_loader.REST_UNARY, "http://127.0.0.1:8080"]
    assert f"--calls={bench_gateway.DEFAULT_LATENCY_CALLS}" in latency
    assert "--pid=gateway=2" in latency
    stream = bench_gateway.loader_argv(args, STREAM, DIRECT, stack, 8)
    assert stream[3:5] == [http_loader.GRPC_STREAM, "127.0.0.1:5000"]
    assert "--concurrency=8" in stream
    assert f"--limit={bench_gateway.DEFAULT_STREAM_LIMIT}" in stream
    assert bench_gateway.stack_paths(stack) == (DIRECT, GATEWAY)
    with pytest.raises(ValueError, match="grpc-gateway is not running"):
        bench_gateway.loader_argv(args, STREAM, GRPC_GATEWAY, stack, 8)


def test_grpc_gateway_path_takes_the_same_rest_loaders_to_its_own_url() -> None:
    """grpc-gateway is driven by exactly the REST loaders our gateway gets, at its URL."""
    args = bench_gateway.parse_args([])
    stack = gateway_stack.Stack(
        pids={GATEWAY: 2, gateway_stack.CATALOG: 1, GRPC_GATEWAY: 3},
        logs={},
        grpc_target="127.0.0.1:5000",
        gateway_url="http://127.0.0.1:8080",
        grpc_gateway_url="http://127.0.0.1:8090",
    )
    assert bench_gateway.stack_paths(stack) == (DIRECT, GATEWAY, GRPC_GATEWAY)
    for scenario, kind in ((LATENCY, http_loader.REST_UNARY), (STREAM, http_loader.REST_STREAM)):
        ours = bench_gateway.loader_argv(args, scenario, GATEWAY, stack, 1)
        theirs = bench_gateway.loader_argv(args, scenario, GRPC_GATEWAY, stack, 1)
        assert theirs[3:5] == [kind, "http://127.0.0.1:8090"]
        assert theirs[5:] == ours[5:]  # the same pids, counts and limits
        assert "--pid=grpc-gateway=3" in theirs


def test_grpc_gateway_argv_routes_the_catalog_and_guards_on_stdin() -> None:
    """The Go binary listens on the given port, routes only the catalog, and stops when
    the benchmark's end of its stdin closes."""
    argv = gateway_stack.grpc_gateway_argv(8090, "127.0.0.1:5000")
    assert argv[0] == str(gateway_stack.GRPC_GATEWAY_BINARY)
    assert argv[1:] == [
        "-listen=127.0.0.1:8090",
        "-upstream=catalog=127.0.0.1:5000",
        "-guard-stdin",
    ]


def test_samples_count_only_the_processes_of_their_path() -> None:
    """Each path's CPU covers its own edge and the catalog; the other edge idles."""
    run = _run(2000)
    both = replace(run, server_cpu_s={**run.server_cpu_s, GRPC_GATEWAY: 0.1})
    assert set(make_sample(UNARY, DIRECT, 1, 16, both).server_cpu_us) == {CATALOG}
    assert set(make_sample(UNARY, GATEWAY, 1, 16, both).server_cpu_us) == {GATEWAY, CATALOG}
    reference = make_sample(UNARY, GRPC_GATEWAY, 1, 16, both)
    assert set(reference.server_cpu_us) == {GRPC_GATEWAY, CATALOG}
    assert reference.server_cpu_us[GRPC_GATEWAY] == pytest.approx(50.0)


def _reference_sample(scenario: str, path: str, round_: int, calls: int, edge_s: float,
                      p50: float = 1.0) -> PathSample:  # fmt: skip
    cpu = {CATALOG: 1.0} if path == DIRECT else {path: edge_s, CATALOG: 1.0}
    run = replace(_run(calls, p50=p50), server_cpu_s=cpu)
    return make_sample(scenario, path, round_, 16, run)


def test_reference_table_sets_our_gateway_beside_grpc_gateway() -> None:
    """Requests/s of both edges and their ratio paired by round, each edge's own CPU per
    request and their ratio, and the p50 each adds to the direct path."""
    samples = [
        _reference_sample(UNARY, DIRECT, 1, 4000, 0.0, p50=1.0),
        _reference_sample(UNARY, GATEWAY, 1, 2000, 1.0, p50=2.0),
        _reference_sample(UNARY, GRPC_GATEWAY, 1, 3000, 0.3, p50=1.5),
    ]
    summaries = summarize(samples)
    versus = versus_reference(samples)
    [ratio] = versus
    assert ratio.arm == GATEWAY
    assert ratio.per_round == pytest.approx((2000 / 3000,))
    table = gateway_report.reference_table(summaries, versus, added_p50(samples))
    [row] = table.rows
    assert row[:5] == ("GetProduct, h2load", "16", "1,000", "1,500", "0.67 (0.67)")
    # Each edge's CPU per request: 0.5 core at 1,000/s = 500 µs; 0.15 core at 1,500/s = 100.
    assert row[5:8] == ("500", "100", "5.00")
    assert row[8:] == ("1.000", "0.500")


def test_goal_lines_judge_our_gateway_only() -> None:
    """grpc-gateway is a reference, not held to our gateway's goals."""
    samples = [
        _sample(UNARY, DIRECT, 1, 1000),
        _sample(UNARY, GATEWAY, 1, 650),
        _reference_sample(UNARY, GRPC_GATEWAY, 1, 100, 0.1),
        _sample(LATENCY, DIRECT, 1, 10, p50=0.5),
        _sample(LATENCY, GATEWAY, 1, 10, p50=0.9),
        _reference_sample(LATENCY, GRPC_GATEWAY, 1, 10, 0.1, p50=5.0),
    ]
    lines = gateway_report.goal_lines(
        ratios(samples), added_p50(samples), min_ratio=0.6, max_added_ms=0.5
    )
    assert lines[0].endswith("16 in flight 0.650 (met)")
    assert lines[1].endswith("0.400 ms (met)")


def test_log_counts_leave_health_watches_out(tmp_path: Path) -> None:
    """Only CatalogService calls are counted; the cancelled health Watch is not an error."""
    log = tmp_path / "catalog.log"
    catalog, health = "/shopmesh.catalog.v1.CatalogService", "/grpc.health.v1.Health"
    log.write_text(
        f'{{"level": "INFO", "rpc_method": "{catalog}/GetProduct", "grpc_code": "OK"}}\n'
        f'{{"level": "INFO", "rpc_method": "{catalog}/ListProducts", "grpc_code": "INTERNAL"}}\n'
        f'{{"level": "INFO", "rpc_method": "{health}/Watch", "grpc_code": "CANCELLED"}}\n'
        '{"level": "WARNING", "msg": "slow"}\n'
    )
    assert bench_gateway.log_counts(log) == (2, 1, 1)
    assert bench_gateway.log_counts(tmp_path / "missing.log") == (0, 0, 0)


@pytest.mark.parametrize(
    "argv", [["--rounds=0"], ["--duration=0"], ["--stream-limit=0"], ["--stream-concurrency="]]
)
def test_parse_args_rejects_settings_that_cannot_measure(argv: list[str]) -> None:
    """No rounds, no window, empty streams or no stream concurrency are usage errors."""
    with pytest.raises(SystemExit):
        bench_gateway.parse_args(argv)
