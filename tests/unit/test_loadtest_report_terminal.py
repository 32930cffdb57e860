"""The terminal report: rich tables whose colour is the console's choice, labels never markup."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from loadtest.report import render_goals, render_terminal
from loadtest.results import Chattiness, RunResult
from tests.unit.loadtest_report_fakes import arm, run

WIDE = 260
"""Wide enough that no cell wraps, so assertions can find whole values."""


def _sample() -> RunResult:
    return run(
        arm("grpc-stream", label="gRPC bidi stream", chattiness=Chattiness(calls=5.0)),
        arm("rest-item", label="[bold red]REST[/]", errors={"http 503": 3}),
    )


def _printed(console: Console) -> str:
    assert isinstance(console.file, io.StringIO)
    return console.file.getvalue()


def _render(console: Console, sample: RunResult) -> str:
    render_terminal(sample, console)
    return _printed(console)


def _colour_codes(output: str) -> list[int]:
    """SGR parameters that set a colour (30-38, 40-48, 90-97) in the output."""
    codes = [
        int(code)
        for params in re.findall(r"\x1b\[([0-9;]*)m", output)
        for code in params.split(";")
        if code
    ]
    return [code for code in codes if 30 <= code <= 48 or 90 <= code <= 97]


def test_plain_text_when_not_a_terminal() -> None:
    """Writing to a file gives plain text with the figures, — for unmeasured, no escape codes."""
    output = _render(Console(file=io.StringIO(), width=WIDE), _sample())
    assert "\x1b" not in output
    assert "gRPC bidi stream" in output
    assert "997 / 3" in output
    assert "5.00" in output
    assert "—" in output
    assert "NOT MET" in output


def test_colour_when_the_console_is_a_terminal() -> None:
    """On a colour terminal results are coloured: plain output is the console's choice, not ours."""
    console = Console(file=io.StringIO(), width=WIDE, force_terminal=True, color_system="standard")
    assert _colour_codes(_render(console, _sample()))


def test_no_color_environment_removes_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    """NO_COLOR set: even a terminal console prints no colour codes."""
    monkeypatch.setenv("NO_COLOR", "1")
    console = Console(file=io.StringIO(), width=WIDE, force_terminal=True, color_system="standard")
    assert _colour_codes(_render(console, _sample())) == []


def test_labels_are_printed_not_interpreted() -> None:
    """A label that looks like rich markup is shown as written."""
    output = _render(Console(file=io.StringIO(), width=WIDE), _sample())
    assert "[bold red]REST[/]" in output


def test_goals_block_shows_each_outcome() -> None:
    """Met, not met and not measured goals each read as such, with the missing arm named."""
    console = Console(file=io.StringIO(), width=WIDE)
    render_goals(_sample(), console)
    lines = _printed(console).splitlines()
    stream_calls = next(line for line in lines if "grpc-stream: calls/op" in line)
    assert "5.00 calls/op" in stream_calls
    assert "NOT MET" in stream_calls
    gateway = next(line for line in lines if "gateway: conns/op" in line)
    assert "not measured" in gateway
    assert "no checkout arm gateway in this run" in gateway
    assert any("rest-item: conns/op" in line and "not measured" in line for line in lines)


def test_goals_block_without_checkout_says_none_evaluated() -> None:
    """A run with no checkout arm states that no goal was evaluated."""
    console = Console(file=io.StringIO(), width=WIDE)
    render_goals(run(arm(scenario="lookup", items=1)), console)
    assert "no checkout arm in this run" in _printed(console)
