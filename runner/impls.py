"""Which implementation of each service a local mesh runs, and the command that starts it.

The manifest says which implementations a service has (``module`` for Python, a
``[services.<name>.go]`` table for Go) and which one runs by default (``impl``). A choice
such as ``go`` (every service that has a Go implementation) or ``pricing=go,inventory=go``
overrides the default per service; the rest of the mesh does not notice: the process
gets the same environment, ports, health gating, log prefix and drain either way.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterable, Mapping

from meshkit.manifest import GO, IMPLEMENTATIONS, PYTHON, ServiceSpec
from runner.plan import SelectionError

GUARD_MODULE = "runner.guard"
GO_GUARD_FLAG = "--guard-stdin"
"""Makes a Go service drain when its stdin closes: runner.guard's job for Python ones."""
GO_INSTALL_HINT = "install Go 1.26 or newer (https://go.dev/dl/), then run `make go-build`"

Choice = str | Mapping[str, str]
"""``""`` (the manifest's defaults), ``"go"``/``"python"`` (that implementation wherever
a service has it), ``"pricing=go,inventory=go"``, or the same as a mapping."""


class ImplementationError(SelectionError):
    """A chosen implementation does not exist, or cannot run here."""


def parse(choice: Choice) -> tuple[str, dict[str, str]]:
    """The choice as (implementation for every service or "", per-service overrides)."""
    if isinstance(choice, Mapping):
        return "", dict(choice)
    overall, per_service = "", {}
    for part in (item.strip() for item in choice.split(",")):
        if not part:
            continue
        name, sep, impl = part.partition("=")
        if sep:
            per_service[name.strip()] = impl.strip()
        elif overall:
            raise ImplementationError(f"implementation given twice: {overall!r} and {part!r}")
        else:
            overall = part
    return overall, per_service


def choose(services: Iterable[ServiceSpec], choice: Choice = "") -> dict[str, str]:
    """Service name → the implementation it runs, for every service in ``services``.

    An overall choice applies to every service that has that implementation (the others
    keep their default); a per-service choice must name a service in ``services`` and an
    implementation it has.
    """
    specs = {spec.name: spec for spec in services}
    overall, per_service = parse(choice)
    for impl in (overall, *per_service.values()):
        if impl and impl not in IMPLEMENTATIONS:
            raise ImplementationError(
                f"unknown implementation {impl!r}; known: {', '.join(IMPLEMENTATIONS)}"
            )
    chosen = {}
    for name, spec in specs.items():
        chosen[name] = overall if overall in spec.implementations else spec.impl
    for name, impl in per_service.items():
        named = specs.get(name)
        if named is None:
            raise ImplementationError(
                f"implementation chosen for {name!r}, which is not in this mesh"
                f" (services: {', '.join(specs)})"
            )
        if impl not in named.implementations:
            raise ImplementationError(
                f"{name} has no {impl} implementation (has: {', '.join(named.implementations)})"
            )
        chosen[name] = impl
    return chosen


def command(spec: ServiceSpec, impl: str) -> list[str]:
    """The argv that starts ``spec`` as ``impl``, stopped if the runner goes away."""
    if impl == GO:
        assert spec.go is not None, f"{spec.name} has no Go implementation"
        return [str(spec.go.binary_path), GO_GUARD_FLAG]
    return [sys.executable, "-m", GUARD_MODULE, spec.module]


def describe(spec: ServiceSpec, impl: str) -> str:
    """How the runner names the command it started, for a person."""
    if impl == GO:
        assert spec.go is not None
        return f"{spec.go.binary} (Go)"
    return f"python -m {spec.module}"


def problem(spec: ServiceSpec, impl: str) -> str | None:
    """Why ``spec`` cannot start as ``impl`` (one line for a person), or None. A Python
    module is checked by ``preflight.check_modules``; a Go service needs its binary."""
    if impl != GO or spec.go is None:
        return None
    binary = spec.go.binary_path
    if binary.is_file() and os.access(binary, os.X_OK):
        return None
    if shutil.which("go") is None:
        return f"{spec.name}: the Go implementation needs the Go toolchain: {GO_INSTALL_HINT}"
    return f"{spec.name}: {spec.go.binary} is not built: run `make go-build` (or use IMPL={PYTHON})"
