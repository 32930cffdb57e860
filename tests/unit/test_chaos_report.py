"""The chaos report: what passes, what fails, and that "not run" is neither."""

from __future__ import annotations

import json
from pathlib import Path

from loadtest.chaos import report
from loadtest.chaos.faults import CATALOGUE, QUICK, SMALL, Kind
from loadtest.chaos.figures import PhaseResult
from loadtest.chaos.invariants import NOTHING_HELD_FOR_FAILED, Violation
from loadtest.chaos.scenario import skus
from loadtest.chaos.suite import ChaosReport, VariantResult

MACHINE = {"cpus": "2", "platform": "Linux", "python": "3.11"}


def _passed(fault: str = "baseline") -> PhaseResult:
    return PhaseResult(fault, "what", operations=10, confirmed=9, declined=1, p50_ms=1, p99_ms=2)


def _report(*variants: VariantResult) -> ChaosReport:
    return ChaosReport("2026-01-01T00:00:00+00:00", MACHINE, {"rate_per_s": 20.0}, list(variants))


def test_a_fault_not_run_is_shown_with_its_reason_and_never_counts_as_passed() -> None:
    """A phase that did not run is neither passed nor failed: the table says "not run"
    and why, and the run's verdict rests on what did run."""
    skipped = PhaseResult("hang-payments", "what", not_run="moto answers one at a time")
    assert not skipped.passed
    result = _report(VariantResult("grpc-dynamodb", [_passed(), skipped]))
    assert result.passed
    text = report.render(result)
    assert "| hang-payments | not run: moto answers one at a time |" in text
    assert text.rstrip().endswith("**PASSED**")


def test_a_variant_that_cannot_run_says_why_and_a_mesh_error_fails() -> None:
    """A variant missing its binaries is "not run: <reason>"; one whose mesh failed to
    start fails the run."""
    missing = VariantResult("grpc-go", not_run="build/go/bin/pricing is not built")
    assert "not run: build/go/bin/pricing is not built" in report.render(_report(missing))
    broken = VariantResult("grpc", [_passed()], error="the mesh did not start: catalog")
    assert not _report(missing, broken).passed


def test_a_violation_fails_the_run_and_lists_the_ids(tmp_path: Path) -> None:
    """One violation anywhere fails the run; the report names it with its ids, in the
    Markdown and the JSON."""
    failing = _passed()
    failing.violations = [Violation(NOTHING_HELD_FOR_FAILED, ("ord_a", "ord_b"), "held: ord_a/0")]
    result = _report(VariantResult("grpc", [failing]))
    assert not result.passed
    markdown, data = report.write(result, tmp_path, "chaos")
    text = markdown.read_text()
    assert "no stock held for a failed or cancelled order: ord_a, ord_b (held: ord_a/0)" in text
    assert text.rstrip().endswith("**FAILED**")
    document = json.loads(data.read_text())
    assert document["passed"] is False
    assert document["variants"][0]["phases"][0]["violations"][0]["ids"] == ["ord_a", "ord_b"]


def test_an_unmet_expectation_fails_the_phase() -> None:
    """An expectation of the fault that did not hold fails it, shown as NOT MET."""
    phase = _passed("term-orders")
    phase.unmet = ["2 calls sent before the signal failed"]
    assert not phase.passed
    assert "NOT MET: 2 calls sent before the signal failed" in report.render(
        _report(VariantResult("grpc", [phase]))
    )


def test_the_catalogue_covers_each_service_and_every_kind() -> None:
    """Every service is killed in turn; each kind of fault is injected at least once;
    the CI and DynamoDB sets name only catalogued faults."""
    kills = {f.target for f in CATALOGUE.values() if f.kind is Kind.KILL and f.copies == 1}
    assert kills == {"catalog", "pricing", "inventory", "payments", "orders"}
    assert {f.kind for f in CATALOGUE.values()} == set(Kind)
    assert set(QUICK) <= set(CATALOGUE)
    assert set(SMALL) <= set(CATALOGUE)


def test_skus_are_distinct_within_an_order_and_rotate_through_the_pool() -> None:
    """Each order takes distinct SKUs of its phase's pool, the next order the next ones."""
    pool = ("A", "B", "C", "D", "E")
    assert skus(pool, 0, 3) == ["A", "B", "C"]
    assert skus(pool, 1, 3) == ["D", "E", "A"]
