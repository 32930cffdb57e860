"""The Markdown report: every section, unmeasured figures as —, text escaped, the method listed."""

from __future__ import annotations

import re
from pathlib import Path

from loadtest.report import render_markdown, write_markdown
from loadtest.results import Chattiness, Cpu, RunResult
from tests.unit.loadtest_report_fakes import arm, latency, run

METHOD = {
    "latency": "From each request's intended send time, in an HdrHistogram of microseconds.",
    "wire_bytes": "Loopback bytes from /proc/net/dev over the window, divided by operations.",
}


def _sample() -> RunResult:
    stream = arm(
        "grpc-stream",
        label="gRPC bidi stream",
        model="open",
        uncorrected_ms=[1.0, 2.0],
        chattiness=Chattiness(calls=4.0, calls_by_service={"catalog": 1.0, "pricing": 3.0}),
        cpu=Cpu(server_s=0.0021, by_process={"orders": 0.0021}),
    )
    stream.set_latency("lag", latency([0.25]))
    stream.set_latency("per_message", latency([0.5, 0.75]))
    failing = arm("rest-item", label="REST per item", errors={"http 503": 3, "timeout": 0})
    return run(stream, failing, method=METHOD)


def _section(markdown: str, title: str) -> str:
    return markdown.split(f"## {title}\n\n", 1)[1].split("\n## ", 1)[0]


def _cells(line: str) -> list[str]:
    """Cells of a table line, splitting on pipes that are not escaped."""
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def test_method_is_listed_sentence_by_sentence() -> None:
    """Every entry of RunResult.method appears under "How each figure was obtained"."""
    section = _section(render_markdown(_sample()), "How each figure was obtained")
    assert section.splitlines() == [
        f"- **latency**: {METHOD['latency']}",
        f"- **wire\\_bytes**: {METHOD['wire_bytes']}",
    ]


def test_a_run_without_method_says_so() -> None:
    """An empty method is reported as missing rather than left out."""
    markdown = render_markdown(run(arm()))
    assert _section(markdown, "How each figure was obtained") == "The run recorded no method.\n"


def test_sections_carry_the_runs_figures() -> None:
    """Settings, environment, arms, latency, chattiness, CPU and errors each show their figures."""
    markdown = render_markdown(_sample())
    assert "| items | 10 |" in _section(markdown, "Settings")
    assert "| cpus | 2 |" in _section(markdown, "Environment")
    arms = _section(markdown, "Arms").splitlines()
    assert _cells(arms[4])[:4] == ["gRPC bidi stream", "checkout N=10", "1,000", "1,000 / 0"]
    assert _cells(arms[5])[3] == "997 / 3"
    assert "| catalog | pricing |" in _section(markdown, "Chattiness (per operation)")
    assert "| gRPC bidi stream | 1.00 | 3.00 |" in markdown
    assert "orders 2.10" in _section(markdown, "CPU")
    # Zero-count statuses are not errors worth a row.
    assert _section(markdown, "Errors").splitlines()[2:] == ["| REST per item | http 503 | 3 |"]


def test_latency_section_shows_every_histogram_present() -> None:
    """The stream arm shows corrected, uncorrected, lag and per-message rows; others only theirs."""
    latency_section = _section(render_markdown(_sample()), "Latency")
    stream, rest = latency_section.split("### ")[1:]
    rows = [_cells(line)[0] for line in stream.splitlines() if line.startswith("| ")][2:]
    assert rows == [
        "corrected (from intended send)",
        "uncorrected (from actual send)",
        "generator lag",
        "per message (stream reply)",
    ]
    lag = next(line for line in stream.splitlines() if line.startswith("| generator lag"))
    assert _cells(lag)[1:3] == ["1", "0.250"]
    assert "uncorrected" not in rest


def test_unmeasured_figures_read_as_dash() -> None:
    """A figure the run could not measure prints —, never 0."""
    arms = _section(render_markdown(run(arm(latencies_ms=None))), "Arms").splitlines()
    headers, row = _cells(arms[2]), _cells(arms[4])
    values = dict(zip(headers, row, strict=True))
    assert values["p99 ms"] == values["calls/op"] == values["wire bytes/op"] == "—"
    assert values["throughput/s"] == "100"


def test_labels_are_escaped_and_keep_the_table_shape() -> None:
    """A label with HTML and pipes is literal text and still one cell."""
    hostile = arm(label="<script>alert(1)</script> | *bold*", latencies_ms=None)
    markdown = render_markdown(run(hostile))
    assert "<script>" not in markdown
    arms = _section(markdown, "Arms").splitlines()
    assert len(_cells(arms[4])) == len(_cells(arms[2]))
    assert _cells(arms[4])[0] == r"\<script\>alert(1)\</script\> \| \*bold\*"


def test_goals_appear_for_a_checkout_run_only() -> None:
    """A checkout run gets the goals table; a lookup-only run has none."""
    assert "## Goals (checkout)" in render_markdown(_sample())
    lookup = run(arm(scenario="lookup", items=1))
    assert "## Goals" not in render_markdown(lookup)


def test_write_markdown_writes_the_report(tmp_path: Path) -> None:
    """write_markdown saves exactly render_markdown's text, creating the folder."""
    path = tmp_path / "out" / "report.md"
    write_markdown(_sample(), path)
    assert path.read_text(encoding="utf-8") == render_markdown(_sample())


def test_summary_is_decoded_when_only_the_histogram_was_stored() -> None:
    """An arm carrying a histogram but no stored summary still reports its percentiles."""
    only_histogram = arm(latencies_ms=None)
    only_histogram.histograms["corrected"] = latency([4.0] * 10).encode()
    arms = _section(render_markdown(run(only_histogram)), "Arms").splitlines()
    assert dict(zip(_cells(arms[2]), _cells(arms[4]), strict=True))["p99 ms"] == "4.00"


def test_notes_of_the_run_come_before_those_of_its_arms() -> None:
    """Whole-run notes are listed first, then each arm's under its label."""
    noted = arm(label="REST per item")
    noted.notes.append("warm-up ran long")
    markdown = render_markdown(run(noted, notes=["no private network namespace"]))
    assert _section(markdown, "Notes").splitlines() == [
        "- no private network namespace",
        "- REST per item: warm-up ran long",
    ]
