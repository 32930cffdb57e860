"""Everything the runner writes: service output, its own events, errors and tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from runner import logview

MESH = "mesh"


class Console:
    """Writes prefixed lines, flushed at once so they interleave in arrival order."""

    def __init__(
        self,
        out: TextIO,
        err: TextIO,
        names: Sequence[str],
        *,
        colour: bool = False,
        raw_logs: bool = False,
    ) -> None:
        self._out = out
        self._err = err
        self._width = max(len(name) for name in (MESH, *names))
        self._colours = {name: logview.colour_for(i) for i, name in enumerate(names)}
        self._colour = colour
        self._raw_logs = raw_logs

    def log(self, service: str, line: str) -> None:
        """One line of a service's output, compacted unless raw logs were asked for."""
        text = line if self._raw_logs else logview.compact(line)
        self._write(self._out, service, self._colours.get(service), text)

    def event(self, message: str) -> None:
        """A line from the runner about the mesh."""
        self._write(self._out, MESH, 1, message)  # 1 = bold

    def error(self, message: str) -> None:
        """A line about a failure, on stderr."""
        self._write(self._err, MESH, 31, message)

    def block(self, text: str) -> None:
        """Text without prefixes (tables, commands), so it pastes cleanly."""
        _emit(self._out, f"{text}\n")

    def _write(self, stream: TextIO, name: str, colour: int | None, text: str) -> None:
        label = logview.prefix(name, self._width, colour if self._colour else None)
        _emit(stream, "".join(f"{label}{part}\n" for part in text.split("\n")))


def _emit(stream: TextIO, text: str) -> None:
    try:
        stream.write(text)
        stream.flush()
    except BrokenPipeError:
        # The reader went away (``| head``). Keep going: the runner must still drain its
        # children's pipes, or they block on their next log line.
        pass
