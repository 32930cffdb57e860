"""Where each arm sends its requests, and where each hop's counters and process are.

A ``Targets`` comes from meshes this run started (``loadtest.local``) or from the
command line, for meshes already running anywhere (a deployed one included: TLS and an
authority for VPC Lattice DNS names).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from meshkit.manifest import PYTHON

ORDERS_VARIANTS: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "orders-unary": (("grpc",), {"SHOPMESH_GRPC_FANOUT": "per-item"}),
    "orders-batch": (
        ("grpc", "rest"),
        {"SHOPMESH_GRPC_FANOUT": "batch", "SHOPMESH_REST_FANOUT": "batch"},
    ),
    "orders-newconn": (("rest",), {"SHOPMESH_REST_NEW_CONNECTION": "1"}),
}
"""Extra orders processes the arms need besides each mesh's own orders: (the meshes that
run it, its environment). A process reads only its own transport's fan-out setting."""


@dataclass(frozen=True)
class Targets:
    grpc: Mapping[str, str] = field(default_factory=dict)
    """Service or orders variant → gRPC ``host:port``."""
    rest: Mapping[str, str] = field(default_factory=dict)
    """Service or orders variant → REST base URL."""
    gateway: str | None = None
    """The gateway's base URL (in front of the gRPC mesh)."""
    metrics: Mapping[str, str] = field(default_factory=dict)
    """Process name → its ``/metrics`` URL (per-hop call counters)."""
    pids: Mapping[str, int] = field(default_factory=dict)
    """Process name → pid, when the processes run on this machine (CPU figures)."""
    tls: bool = False
    authority: str | None = None
    """Overrides the :authority / Host (and TLS server name), e.g. a Lattice DNS name."""
    ca_file: Path | None = None
    local: bool = False
    """Started by this run: kernel counters describe only its traffic in a private netns."""
    alternatives: Mapping[str, Targets] = field(default_factory=dict)
    """Implementation (``"go"``) → the meshes whose pricing and inventory run it, for the
    arms of that implementation; these targets are the Python meshes'."""

    def for_impl(self, impl: str) -> Targets:
        """The targets of the meshes running ``impl`` (these ones for Python)."""
        if impl == PYTHON:
            return self
        found = self.alternatives.get(impl)
        if found is None:
            raise ValueError(f"no targets for the {impl} arms: none started or given")
        return found
