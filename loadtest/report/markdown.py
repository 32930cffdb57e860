"""The run as GitHub Markdown: settings, environment, arms, Python vs Go, goals (per
language), latency, chattiness, CPU, errors, notes and how each figure was obtained."""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from loadtest.report import figures, polyglot, units
from loadtest.report.goals import goal_blocks
from loadtest.results import HISTOGRAMS, ArmResult, RunResult

HISTOGRAM_TITLES = {
    "corrected": "corrected (from intended send)",
    "uncorrected": "uncorrected (from actual send)",
    "lag": "generator lag",
    "per_message": "per message (stream reply)",
}
GOAL_RESULTS = {True: "met", False: "NOT MET", None: "not measured"}

_SPECIAL = re.compile(r"([\\`*_{}\[\]<>&#|~])")


def inline(text: object) -> str:
    """Text as literal Markdown: punctuation that could format, link or open HTML is
    backslash-escaped (CommonMark allows that for any ASCII punctuation)."""
    return _SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], text: Collection[int] = (0,)
) -> str:
    """A pipe table of escaped cells: the ``text`` columns left-aligned, numbers right."""
    rule = "| " + " | ".join("---" if i in text else "---:" for i in range(len(headers))) + " |"
    lines = [_row(headers), rule, *(_row(row) for row in rows)]
    return "\n".join(lines)


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(inline(cell) for cell in cells) + " |"


def render_markdown(run: RunResult) -> str:
    sections = [
        f"# shopmesh load test, started {inline(run.started_at)}",
        _mapping("Settings", run.settings),
        _mapping("Environment", run.environment),
        _arms(run),
        _polyglot(run),
        _goals(run),
        _latency(run),
        _chattiness(run),
        _cpu(run),
        _errors(run),
        _notes(run),
        _method(run),
    ]
    return "\n\n".join(section for section in sections if section) + "\n"


def write_markdown(run: RunResult, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_markdown(run), encoding="utf-8")


def _mapping(title: str, values: Mapping[str, Any]) -> str:
    if not values:
        return f"## {title}\n\nNone recorded."
    rows = [[key, _value(value)] for key, value in values.items()]
    return f"## {title}\n\n" + table(["", "value"], rows, text=(0, 1))


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _arms(run: RunResult) -> str:
    headers, rows = figures.arm_table(run)
    return f"## Arms\n\n{inline(figures.TABLE_CAPTION)}\n\n" + table(headers, rows, text=(0, 1))


def _polyglot(run: RunResult) -> str:
    rows = polyglot.polyglot_rows(run)
    if not rows:
        return ""
    return f"## Python vs Go: server CPU per message\n\n{inline(polyglot.CAPTION)}\n\n" + table(
        polyglot.HEADERS, rows
    )


def _goals(run: RunResult) -> str:
    blocks = goal_blocks(run)
    if not blocks:
        return ""
    parts = ["## Goals (checkout)"]
    for language, rows in blocks:
        cells = [[row.goal, row.measured_text(), GOAL_RESULTS[row.met], row.note] for row in rows]
        parts.append(f"### {inline(language.title[:1].upper() + language.title[1:])}")
        parts.append(table(["goal", "measured", "result", "note"], cells, text=(0, 2, 3)))
    return "\n\n".join(parts)


def _latency(run: RunResult) -> str:
    parts = ["## Latency"]
    for arm in run.arms:
        parts.append(f"### {inline(figures.arm_title(arm))} ({inline(arm.name)})")
        parts.append(inline(_conditions(arm)))
        rows = []
        for name in dict.fromkeys([*HISTOGRAMS, *arm.histograms, *arm.summaries]):
            summary = figures.latency_summary(arm, name)
            if summary is not None:
                cells = [units.ms(summary.get(key, 0.0)) for key in _SUMMARY_KEYS[1:]]
                rows.append(
                    [HISTOGRAM_TITLES.get(name, name), units.count(summary["count"]), *cells]
                )
        if rows:
            parts.append(table(["histogram", *_SUMMARY_KEYS], rows))
        else:
            parts.append("No latency recorded.")
    return "\n\n".join(parts)


_SUMMARY_KEYS = ["count", "p50", "p90", "p99", "p99.9", "max", "mean"]


def _conditions(arm: ArmResult) -> str:
    load = (
        f"open loop at {units.rate(arm.rate_per_s)}/s"
        if arm.model == "open" and arm.rate_per_s is not None
        else f"{arm.model} loop"
    )
    return (
        f"{figures.scenario_text(arm)}, {load}, concurrency {arm.concurrency}, "
        f"{arm.duration_s:g} s measured; latency in ms."
    )


_CHATTINESS = (
    figures.CALLS,
    figures.MESSAGES,
    figures.NEW_CONNECTIONS,
    figures.WIRE_BYTES,
    figures.SEGMENTS,
)


def _chattiness(run: RunResult) -> str:
    rows = [[figures.arm_title(arm), *(f.text(arm) for f in _CHATTINESS)] for arm in run.arms]
    section = "## Chattiness (per operation)\n\n" + table(
        ["arm", *(f.label for f in _CHATTINESS)], rows
    )
    by_service = [arm.chattiness.calls_by_service for arm in run.arms]
    services = list(dict.fromkeys(service for calls in by_service for service in calls))
    if not services:
        return section + "\n\nCalls by service: not measured."
    rows = [
        [
            figures.arm_title(arm),
            *(units.per_op(calls.get(s, 0.0)) if calls else figures.NOT_MEASURED for s in services),
        ]
        for arm, calls in zip(run.arms, by_service, strict=True)
    ]
    return (
        section + "\n\n### Calls by service (per operation)\n\n" + table(["arm", *services], rows)
    )


def _cpu(run: RunResult) -> str:
    rows = []
    for arm in run.arms:
        by_process = ", ".join(
            f"{name} {units.ms(seconds * 1000)}" for name, seconds in arm.cpu.by_process.items()
        )
        cores = arm.cpu.server_cores
        rows.append(
            [
                figures.arm_title(arm),
                figures.SERVER_CPU_MS.text(arm),
                figures.LOADER_CPU_MS.text(arm),
                figures.NOT_MEASURED if cores is None else f"{cores:.2f}",
                figures.PER_CORE.text(arm),
                by_process or figures.NOT_MEASURED,
            ]
        )
    headers = ["arm", "server ms/op", "loader ms/op", "server cores", "ops/s per core"]
    return "## CPU\n\n" + table([*headers, "server ms/op by process"], rows, text=(0, 5))


def _errors(run: RunResult) -> str:
    rows = [
        [figures.arm_title(arm), status, units.count(count)]
        for arm in run.arms
        for status, count in arm.errors.items()
        if count
    ]
    if not rows:
        return "## Errors\n\nNone."
    return "## Errors\n\n" + table(["arm", "status", "count"], rows, text=(0, 1))


def _notes(run: RunResult) -> str:
    lines = [f"- {inline(note)}" for note in run.notes]
    lines += [
        f"- {inline(figures.arm_title(arm))}: {inline(note)}"
        for arm in run.arms
        for note in arm.notes
    ]
    return "## Notes\n\n" + "\n".join(lines) if lines else ""


def _method(run: RunResult) -> str:
    if not run.method:
        return "## How each figure was obtained\n\nThe run recorded no method."
    lines = [f"- **{inline(key)}**: {inline(sentence)}" for key, sentence in run.method.items()]
    return "## How each figure was obtained\n\n" + "\n".join(lines)
