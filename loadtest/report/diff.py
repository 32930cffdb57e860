"""Two runs compared arm by arm: each figure in A and B, the ratio B/A, better or worse."""

from __future__ import annotations

from loadtest.report import figures, units
from loadtest.report.markdown import inline, table
from loadtest.results import ArmResult, RunResult

SAME_WITHIN = 0.01
"""Relative differences below 1% read as "same": below the precision the reports print."""


def render_diff(a: RunResult, b: RunResult) -> str:
    """Markdown (readable as plain text) comparing the arms both runs have, by scenario and
    name."""
    parts = [
        "# Comparison of two load-test runs",
        f"A: started {inline(a.started_at)}; B: started {inline(b.started_at)}. "
        "Ratio is B/A; better or worse is B against A.",
    ]
    arms_b = {arm.key: arm for arm in b.arms}
    keys_a = {arm.key for arm in a.arms}
    for arm_a in a.arms:
        arm_b = arms_b.get(arm_a.key)
        if arm_b is not None:
            parts.append(_arm_diff(arm_a, arm_b))
    only_a = [arm.key for arm in a.arms if arm.key not in arms_b]
    only_b = [arm.key for arm in b.arms if arm.key not in keys_a]
    if only_a:
        parts.append("Arms only in A: " + ", ".join(inline(name) for name in only_a) + ".")
    if only_b:
        parts.append("Arms only in B: " + ", ".join(inline(name) for name in only_b) + ".")
    return "\n\n".join(parts) + "\n"


def _arm_diff(a: ArmResult, b: ArmResult) -> str:
    heading = f"## {inline(figures.arm_title(a))} ({inline(a.key)})"
    if figures.scenario_text(a) != figures.scenario_text(b) or a.model != b.model:
        heading += (
            f"\n\nNot like for like: A is {inline(figures.scenario_text(a))} ({a.model} loop), "
            f"B is {inline(figures.scenario_text(b))} ({b.model} loop)."
        )
    rows = [_figure_row(figure, a, b) for figure in figures.COMPARED]
    return heading + "\n\n" + table(["figure", "A", "B", "B/A", "change"], rows, text=(0, 4))


def _figure_row(figure: figures.Figure, a: ArmResult, b: ArmResult) -> list[str]:
    value_a, value_b = figure.read(a), figure.read(b)
    return [
        figure.label,
        figure.text(a),
        figure.text(b),
        _ratio(value_a, value_b),
        change(figure, value_a, value_b),
    ]


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None:
        return figures.NOT_MEASURED
    if a == 0:
        # Anything over nothing has no ratio; nothing over nothing is unchanged.
        return units.ratio(1.0) if b == 0 else figures.NOT_MEASURED
    return units.ratio(b / a)


def change(figure: figures.Figure, a: float | None, b: float | None) -> str:
    """ "better", "worse", "same" or, for figures with no better direction, "more"/"less";
    "not measured" when either side lacks the figure."""
    if a is None or b is None:
        return "not measured"
    if abs(b - a) <= SAME_WITHIN * max(abs(a), abs(b)):
        return "same"
    if figure.better is None:
        return "more" if b > a else "less"
    improved = b < a if figure.better == "lower" else b > a
    return "better" if improved else "worse"
