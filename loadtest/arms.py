"""The arms: the same business operation driven different ways, so protocol and API
shape can be told apart.

| arm | protocol | shape |
|---|---|---|
| grpc-stream | gRPC (HTTP/2, protobuf) | a batch call + bidi streams: 4 calls per checkout |
| grpc-batch | gRPC | batch unary calls (one message each way): 4 |
| grpc-unary | gRPC | one unary call per item: 3N+1 |
| rest-item | REST (HTTP/1.1, JSON), keep-alive pool | one request per item: 3N+1 |
| rest-item-newconn | REST, a new TCP connection per request | one request per item: 3N+1 |
| rest-batch | REST, keep-alive pool | batch endpoints: 4 |
| gateway | REST at the edge → gRPC inside | as grpc-stream, plus the edge hop |

The ``-go`` arms (grpc-stream-go, grpc-batch-go, rest-item-go, rest-batch-go) are the same
four shapes through a mesh whose pricing and inventory run their Go implementations
(docs/POLYGLOT.md); catalog, payments and orders stay Python. They answer whether the
protocol's promise shows once a message is cheap to serve.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from meshkit.manifest import GO, PYTHON

SCENARIOS = ("lookup", "checkout", "quote-stream", "mix")


@dataclass(frozen=True)
class Arm:
    name: str
    label: str
    protocol: str
    """"grpc", "rest" or "gateway" (HTTP at the edge)."""
    orders: str
    """The orders process whose fan-out this arm measures."""
    shape: str
    """"stream", "batch" or "per-item": how the loader itself sends quotes, too."""
    new_connection: bool = False
    impl: str = PYTHON
    """Which implementation of pricing and inventory the arm's mesh runs: "python" or
    "go" (the rest of the mesh is Python either way)."""

    @property
    def per_item(self) -> bool:
        return self.shape == "per-item"


GO_SHAPES = (
    ("grpc-stream", "gRPC, bidi streams", "grpc", "orders", "stream"),
    ("grpc-batch", "gRPC, batch calls", "grpc", "orders-batch", "batch"),
    ("rest-item", "REST per item, keep-alive", "rest", "orders", "per-item"),
    ("rest-batch", "REST batch endpoints", "rest", "orders-batch", "batch"),
)
"""(name, label, protocol, orders process, shape) of the arms repeated with Go services."""
GO_ORDERS = ("orders", "orders-batch")
"""The orders processes the Go arms drive, so the only ones their meshes run."""

ARMS: dict[str, Arm] = {
    arm.name: arm
    for arm in (
        Arm("grpc-stream", "gRPC, bidi streams", "grpc", "orders", shape="stream"),
        Arm("grpc-batch", "gRPC, batch calls", "grpc", "orders-batch", shape="batch"),
        Arm("grpc-unary", "gRPC, unary per item", "grpc", "orders-unary", shape="per-item"),
        Arm("rest-item", "REST per item, keep-alive", "rest", "orders", shape="per-item"),
        Arm(
            "rest-item-newconn",
            "REST per item, new connection each",
            "rest",
            "orders-newconn",
            shape="per-item",
            new_connection=True,
        ),
        Arm("rest-batch", "REST batch endpoints", "rest", "orders-batch", shape="batch"),
        Arm("gateway", "REST via gateway → gRPC", "gateway", "orders", shape="batch"),
        *(
            Arm(f"{name}-go", f"Go: {label}", protocol, orders, shape, impl=GO)
            for name, label, protocol, orders, shape in GO_SHAPES
        ),
    )
}

PYTHON_ARMS = tuple(name for name, arm in ARMS.items() if arm.impl == PYTHON)

SCENARIO_ARMS: dict[str, tuple[str, ...]] = {
    # One product: there is no fan-out, so batch and unary-vs-stream do not apply; and
    # the catalog has no Go implementation, so there is no Go arm either.
    "lookup": ("grpc-unary", "rest-item", "rest-item-newconn", "gateway"),
    "checkout": tuple(ARMS),
    "quote-stream": tuple(ARMS),
    # The mix is mostly lookups: it stays a Python-only scenario.
    "mix": PYTHON_ARMS,
}

ENTRY = {
    "lookup": "catalog",
    "checkout": "orders",
    "quote-stream": "pricing",
}
"""The service a scenario's request enters the mesh at (mix: any of them)."""


def kind_of(scenario: str, number: int) -> str:
    """The operation ``number`` of ``scenario`` performs: the scenario itself, or for the
    mix 70 % lookups, 20 % quotes, 10 % checkouts, interleaved deterministically."""
    if scenario != "mix":
        return scenario
    slot = number % 10
    return "lookup" if slot < 7 else "quote-stream" if slot < 9 else "checkout"


def arms_for(
    scenario: str, names: tuple[str, ...] = (), impls: Collection[str] = (PYTHON, GO)
) -> list[Arm]:
    """The arms of a scenario whose services run one of ``impls``, optionally only
    ``names`` (in the scenario's order); a named arm of another implementation is an
    error, not a silent omission."""
    wanted = SCENARIO_ARMS[scenario]
    unknown = sorted(set(names) - set(ARMS))
    if unknown:
        raise ValueError(f"unknown arm(s) {', '.join(unknown)}; known: {', '.join(ARMS)}")
    excluded = sorted(name for name in names if ARMS[name].impl not in impls)
    if excluded:
        raise ValueError(
            f"arm(s) {', '.join(excluded)} need services this run does not start"
            f" (implementations: {', '.join(impls)}): add --impls {GO}"
        )
    return [
        ARMS[name] for name in wanted if ARMS[name].impl in impls and (not names or name in names)
    ]
