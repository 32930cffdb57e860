"""Which implementation of each service runs: the manifest's default, or a choice.

The manifest says which implementations a service has (``module`` for Python, a
``[services.<name>.go]`` table for Go) and which one runs by default (``impl``). A choice
such as ``go`` (every service that has a Go implementation) or ``pricing=go,inventory=go``
overrides the default per service. The local runner (``make run IMPL=``) and the deploy
(``make deploy IMPL=``) read the same choice the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from meshkit.manifest import IMPLEMENTATIONS, ServiceSpec

Choice = str | Mapping[str, str]
"""``""`` (the manifest's defaults), ``"go"``/``"python"`` (that implementation wherever
a service has it), ``"pricing=go,inventory=go"``, or the same as a mapping."""


class ImplementationError(ValueError):
    """A chosen implementation does not exist, or the choice is malformed."""


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
