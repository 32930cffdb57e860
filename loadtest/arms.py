"""The arms: the same business operation driven different ways, so protocol and API
shape can be told apart.

| arm | protocol | shape |
|---|---|---|
| grpc-stream | gRPC (HTTP/2, protobuf) | a batch call + bidi streams: 4 calls per checkout |
| grpc-unary | gRPC | one unary call per item: 3N+1 |
| rest-item | REST (HTTP/1.1, JSON), keep-alive pool | one request per item: 3N+1 |
| rest-item-newconn | REST, a new TCP connection per request | one request per item: 3N+1 |
| rest-batch | REST, keep-alive pool | batch endpoints: 4 |
| gateway | REST at the edge → gRPC inside | as grpc-stream, plus the edge hop |
"""

from __future__ import annotations

from dataclasses import dataclass

SCENARIOS = ("lookup", "checkout", "quote-stream", "mix")


@dataclass(frozen=True)
class Arm:
    name: str
    label: str
    protocol: str
    """"grpc", "rest" or "gateway" (HTTP at the edge)."""
    orders: str
    """The orders process whose fan-out this arm measures."""
    per_item: bool
    """The loader itself sends one request per item where the scenario allows (quotes)."""
    new_connection: bool = False


ARMS: dict[str, Arm] = {
    arm.name: arm
    for arm in (
        Arm("grpc-stream", "gRPC, bidi streams", "grpc", "orders", per_item=False),
        Arm("grpc-unary", "gRPC, unary per item", "grpc", "orders-unary", per_item=True),
        Arm("rest-item", "REST per item, keep-alive", "rest", "orders", per_item=True),
        Arm(
            "rest-item-newconn",
            "REST per item, new connection each",
            "rest",
            "orders-newconn",
            per_item=True,
            new_connection=True,
        ),
        Arm("rest-batch", "REST batch endpoints", "rest", "orders-batch", per_item=False),
        Arm("gateway", "REST via gateway → gRPC", "gateway", "orders", per_item=False),
    )
}

SCENARIO_ARMS: dict[str, tuple[str, ...]] = {
    # One product: there is no fan-out, so batch and unary-vs-stream do not apply.
    "lookup": ("grpc-unary", "rest-item", "rest-item-newconn", "gateway"),
    "checkout": tuple(ARMS),
    "quote-stream": tuple(ARMS),
    "mix": tuple(ARMS),
}

ENTRY = {
    "lookup": "catalog",
    "checkout": "orders",
    "quote-stream": "pricing",
}
"""The service a scenario's request enters the mesh at (mix: any of them)."""


def arms_for(scenario: str, names: tuple[str, ...] = ()) -> list[Arm]:
    """The arms of a scenario, optionally only ``names`` (in the scenario's order)."""
    wanted = SCENARIO_ARMS[scenario]
    unknown = sorted(set(names) - set(ARMS))
    if unknown:
        raise ValueError(f"unknown arm(s) {', '.join(unknown)}; known: {', '.join(ARMS)}")
    return [ARMS[name] for name in wanted if not names or name in names]
