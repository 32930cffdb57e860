"""The run in a terminal: the arm table and the goals block, drawn by ``rich``.

Every cell is a ``Text`` so labels are never read as rich markup; colour (or none, when
the output is not a terminal or NO_COLOR is set) is the passed console's decision.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from loadtest.report import figures
from loadtest.report.goals import goal_rows
from loadtest.results import RunResult

GOAL_RESULTS = {
    True: Text("met", style="green"),
    False: Text("NOT MET", style="bold red"),
    None: Text("not measured", style="yellow"),
}


def render_terminal(run: RunResult, console: Console) -> None:
    """The arm table, then the goals block."""
    console.print(arm_table(run))
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
    rows = goal_rows(run)
    if not rows:
        console.print(Text("Goals: no checkout arm in this run, so none were evaluated."))
        return
    table = Table(title=Text("Goals (checkout)"))
    table.add_column(Text("goal"))
    table.add_column(Text("measured"), justify="right")
    table.add_column(Text("result"))
    table.add_column(Text("note"))
    for row in rows:
        table.add_row(
            Text(row.goal), Text(row.measured_text()), GOAL_RESULTS[row.met], Text(row.note)
        )
    console.print(table)
