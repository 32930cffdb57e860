"""Routes of a REST service: ``METHOD /literal/{variable}/...`` templates, matched by
segment.

Paths are split on the raw (still percent-encoded) path, then each segment is decoded,
so an encoded ``/`` inside a SKU stays inside its variable. Literal segments win over
variables, so ``POST /v1/products/lookup`` is never read as a product called "lookup".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

if TYPE_CHECKING:
    from meshkit.runtime.rest.request import RestRequest

Handler = Callable[["RestRequest"], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Route:
    """One operation: ``handler`` answers ``method template`` with a JSON object."""

    method: str
    template: str
    handler: Handler

    @property
    def name(self) -> str:
        """How counters and logs name the operation, e.g. ``GET /v1/products/{sku}``."""
        return f"{self.method} {self.template}"


@dataclass(frozen=True)
class _Compiled:
    route: Route
    segments: tuple[str | None, ...]  # None: a variable
    variables: tuple[str, ...]


class Router:
    """Finds the route for a request; ``allowed`` lists the methods of a known path."""

    def __init__(self, routes: Sequence[Route]) -> None:
        compiled = [_compile(route) for route in routes]
        shapes = [(c.route.method, c.segments) for c in compiled]
        if len(set(shapes)) != len(shapes):
            raise ValueError("two routes share a method and path shape")
        # Fewest variables first: literals win.
        compiled.sort(key=lambda c: len(c.variables))
        self._by_length: dict[int, list[_Compiled]] = {}
        for entry in compiled:
            self._by_length.setdefault(len(entry.segments), []).append(entry)

    def match(self, method: str, raw_path: bytes) -> tuple[Route, dict[str, str]] | list[str]:
        """The route and its variables, or the methods the path allows ([]: no such path)."""
        parts = raw_path.split(b"/")
        if parts[0] != b"":
            return []
        segments = [unquote(part.decode("latin-1"), errors="strict") for part in parts[1:]]
        allowed: list[str] = []
        for entry in self._by_length.get(len(segments), ()):
            values = _bind(entry, segments)
            if values is None:
                continue
            if entry.route.method == method:
                return entry.route, values
            allowed.append(entry.route.method)
        return allowed


def _compile(route: Route) -> _Compiled:
    if not route.template.startswith("/"):
        raise ValueError(f"{route.name}: a template starts with /")
    segments: list[str | None] = []
    variables: list[str] = []
    for part in route.template[1:].split("/"):
        if part.startswith("{") and part.endswith("}"):
            segments.append(None)
            variables.append(part[1:-1])
        else:
            segments.append(part)
    return _Compiled(route, tuple(segments), tuple(variables))


def _bind(entry: _Compiled, segments: Sequence[str]) -> dict[str, str] | None:
    values: dict[str, str] = {}
    names = iter(entry.variables)
    for expected, actual in zip(entry.segments, segments, strict=True):
        if expected is None:
            if not actual:
                return None
            values[next(names)] = actual
        elif expected != actual:
            return None
    return values
