"""The command that starts each service of a local mesh in its chosen implementation.

Which implementation runs is ``meshkit.implementations``' choice (the manifest's default,
``go``, or ``pricing=go,inventory=go``); the rest of the mesh does not notice: the
process gets the same environment, ports, health gating, log prefix and drain either way.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterable

from meshkit import implementations
from meshkit.manifest import GO, PYTHON, ServiceSpec
from runner.plan import SelectionError

GUARD_MODULE = "runner.guard"
GO_GUARD_FLAG = "--guard-stdin"
"""Makes a Go service drain when its stdin closes: runner.guard's job for Python ones."""
GO_INSTALL_HINT = "install Go 1.26 or newer (https://go.dev/dl/), then run `make go-build`"

Choice = implementations.Choice


class ImplementationError(SelectionError):
    """A chosen implementation does not exist, or cannot run here."""


def choose(services: Iterable[ServiceSpec], choice: Choice = "") -> dict[str, str]:
    """Service name → the implementation it runs (``meshkit.implementations.choose``), with
    a bad choice as the runner's own selection error."""
    try:
        return implementations.choose(services, choice)
    except implementations.ImplementationError as exc:
        raise ImplementationError(str(exc)) from None


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
