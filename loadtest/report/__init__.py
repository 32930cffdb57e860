"""Reports of a load-test run: a terminal table, Markdown, an HTML chart page, the diff of
two runs, the merge of repeated runs, and the issue's goals checked."""

from __future__ import annotations

from loadtest.report.chart import render_chart, write_chart
from loadtest.report.diff import render_diff
from loadtest.report.goals import GoalRow, goal_rows
from loadtest.report.markdown import render_markdown, write_markdown
from loadtest.report.merge import merge_runs
from loadtest.report.terminal import render_goals, render_terminal

__all__ = [
    "GoalRow",
    "goal_rows",
    "merge_runs",
    "render_chart",
    "render_diff",
    "render_goals",
    "render_markdown",
    "render_terminal",
    "write_chart",
    "write_markdown",
]
