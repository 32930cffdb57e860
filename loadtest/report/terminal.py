"""The run in a terminal: the arm table, the Python-vs-Go table and the goals blocks (one
per language), drawn by ``rich``.

Every cell is a ``Text`` so labels are never read as rich markup; colour (or none, when
the output is not a terminal or NO_COLOR is set) is the passed console's decision.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from loadtest.report import figures, polyglot
from loadtest.report.goals import goal_blocks
from loadtest.results import RunResult

GOAL_RESULTS = {
    True: Text("met", style="green"),
    False: Text("NOT MET", style="bold red"),
    None: Text("not measured", style="yellow"),
}


def render_terminal(run: RunResult, console: Console) -> None:
    """The arm table, the Python-vs-Go table (when the run has one), then the goals."""
    console.print(arm_table(run))
    rows = polyglot.polyglot_rows(run)
    if rows:
        table = Table(
            title=Text("Python vs Go: server CPU per message"),
            caption=Text(polyglot.CAPTION),
        )
        for index, header in enumerate(polyglot.HEADERS):
            table.add_column(Text(header), justify="left" if index == 0 else "right")
        for row in rows:
            table.add_row(*(Text(cell) for cell in row))
        console.print(table)
    render_goals(run, console)


def arm_table(run: RunResult) -> Table:
    headers, rows = figures.arm_table(run)
    table = Table(
        title=Text(f"shopmesh load test, started {run.started_at}"),
        caption=Text(figures.TABLE_CAPTION),
    )
    for index, header in enumerate(headers):
        table.add_column(Text(header), justify="left" if index < 2 else "right")
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    return table


def render_goals(run: RunResult, console: Console) -> None:
    """One goals table per language with checkout arms in the run."""
    blocks = goal_blocks(run)
    if not blocks:
        console.print(Text("Goals: no checkout arm in this run, so none were evaluated."))
        return
    for language, rows in blocks:
        table = Table(title=Text(f"Goals (checkout, {language.title})"))
        table.add_column(Text("goal"))
        table.add_column(Text("measured"), justify="right")
        table.add_column(Text("result"))
        table.add_column(Text("note"))
        for row in rows:
            table.add_row(
                Text(row.goal), Text(row.measured_text()), GOAL_RESULTS[row.met], Text(row.note)
            )
        console.print(table)
