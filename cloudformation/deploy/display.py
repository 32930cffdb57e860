"""What the user sees: a progress bar over the stacks, stack events as they arrive, the
change sets, and the failures; one rich console, so all of it can be captured in tests."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn

from cloudformation.deploy.events import StackEvent

_STATUS_STYLE = (("FAILED", "red"), ("ROLLBACK", "yellow"), ("COMPLETE", "green"))


@dataclass(frozen=True)
class Change:
    """One resource action of a change set."""

    action: str
    logical_id: str
    resource_type: str
    replacement: str


class Reporter:
    """Prints through one console; ``stacks`` shows progress over a run of stacks."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(highlight=False)
        self._progress: Progress | None = None
        self._task = TaskID(0)

    @contextmanager
    def stacks(self, verb: str, total: int) -> Iterator[None]:
        progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} stacks"),
            console=self.console,
            transient=True,
        )
        self._progress = progress
        self._task = progress.add_task(verb, total=total)
        with progress:
            yield
        self._progress = None

    def working_on(self, description: str) -> None:
        if self._progress is not None:
            self._progress.update(self._task, description=description)

    def stack_done(self) -> None:
        if self._progress is not None:
            self._progress.advance(self._task)

    def say(self, text: str) -> None:
        # Never wrapped: printed commands must paste as they are.
        self.console.print(escape(text), soft_wrap=True)

    def event(self, stack: str, event: StackEvent) -> None:
        style = next((style for word, style in _STATUS_STYLE if word in event.status), "")
        line = escape(f"  {stack}: {event.line()}")
        self.console.print(f"[{style}]{line}[/]" if style else line)

    def changes(self, stack: str, changes: Sequence[Change]) -> None:
        self.say(f"{stack}: change set with {len(changes)} resource change(s)")
        for change in changes:
            replace = f" (replacement: {change.replacement})" if change.replacement else ""
            self.say(f"  {change.action:<7} {change.logical_id} ({change.resource_type}){replace}")

    def failure(self, text: str) -> None:
        self.console.print(f"[red]{escape(text)}[/]", soft_wrap=True)
