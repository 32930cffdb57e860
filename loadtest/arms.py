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
    shape: str
    """"stream", "batch" or "per-item": how the loader itself sends quotes, too."""
    new_connection: bool = False

    @property
    def per_item(self) -> bool:
        return self.shape == "per-item"


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


def kind_of(scenario: str, number: int) -> str:
    """The operation ``number`` of ``scenario`` performs: the scenario itself, or for the
    mix 70 % lookups, 20 % quotes, 10 % checkouts, interleaved deterministically."""
    if scenario != "mix":
        return scenario
    slot = number % 10
    return "lookup" if slot < 7 else "quote-stream" if slot < 9 else "checkout"


def arms_for(scenario: str, names: tuple[str, ...] = ()) -> list[Arm]:
    """The arms of a scenario, optionally only ``names`` (in the scenario's order)."""
    wanted = SCENARIO_ARMS[scenario]
    unknown = sorted(set(names) - set(ARMS))
    if unknown:
        raise ValueError(f"unknown arm(s) {', '.join(unknown)}; known: {', '.join(ARMS)}")
    return [ARMS[name] for name in wanted if not names or name in names]
