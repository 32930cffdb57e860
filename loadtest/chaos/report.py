"""The chaos run as people read it (a Markdown table per variant, then every violation
with its ids and every expectation not met) and as JSON."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from loadtest.chaos.figures import PhaseResult
from loadtest.chaos.suite import ChaosReport, VariantResult

HEADER = (
    "| fault | sent | confirmed | declined | failed, by reason | recovered | violations"
    " | p50 ms | p99 ms | p99 vs baseline | notes |"
)
RULE = "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---|"


def render(report: ChaosReport) -> str:
    """The whole report as Markdown (what the terminal shows and chaos.md holds)."""
    machine = report.machine
    lines = [
        f"# Chaos run, {report.started_at}",
        "",
        f"{machine['cpus']} CPUs, {machine['platform']}, Python {machine['python']}, load"
        f" average at the start {machine.get('load_average', '?')}; settings:"
        f" {', '.join(f'{k}={v}' for k, v in report.settings.items())}",
    ]
    for variant in report.variants:
        lines += ["", *_variant(variant)]
    lines += ["", f"**{'PASSED' if report.passed else 'FAILED'}**"]
    return "\n".join(lines) + "\n"


def _variant(variant: VariantResult) -> list[str]:
    heading = f"## {variant.variant}"
    if variant.not_run:
        return [heading, "", f"not run: {variant.not_run}"]
    lines = [heading, "", HEADER, RULE, *(_row(phase) for phase in variant.phases)]
    if variant.error:
        lines += ["", f"**error:** {variant.error}"]
    problems = [
        f"- {phase.fault}: {problem}"
        for phase in variant.phases
        for problem in (
            *(f"**violation** {v.describe()}" for v in phase.violations),
            *(f"**expectation not met:** {text}" for text in phase.unmet),
        )
    ]
    if problems:
        lines += ["", *problems]
    lines += ["", f"{variant.variant}: {variant.seconds:.0f} s"]
    return lines


def _row(phase: PhaseResult) -> str:
    if phase.not_run:
        return f"| {phase.fault} | not run: {phase.not_run} |||||||||"
    failed = ", ".join(f"{n} {reason}" for reason, n in phase.failures.items()) or "0"
    ratio = f"{phase.p99_vs_baseline:.1f}" if phase.p99_vs_baseline else ""
    notes = "; ".join([*phase.notes, *(f"NOT MET: {u}" for u in phase.unmet)])
    return (
        f"| {phase.fault} | {phase.operations} | {phase.confirmed} | {phase.declined}"
        f" | {failed} | {phase.recovered} | {len(phase.violations)} | {phase.p50_ms:.1f}"
        f" | {phase.p99_ms:.1f} | {ratio} | {notes} |"
    )


def to_json(report: ChaosReport) -> dict[str, Any]:
    return {"schema": "shopmesh-chaos/1", "passed": report.passed, **asdict(report)}


def write(report: ChaosReport, folder: Path, name: str) -> tuple[Path, Path]:
    """``name.md`` and ``name.json`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    markdown, data = folder / f"{name}.md", folder / f"{name}.json"
    markdown.write_text(render(report), encoding="utf-8")
    data.write_text(json.dumps(to_json(report), indent=2, default=str) + "\n", encoding="utf-8")
    return markdown, data
