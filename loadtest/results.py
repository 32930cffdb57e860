"""What a run produces: one ``RunResult`` with one ``ArmResult`` per arm, as JSON.

The JSON keeps every latency histogram encoded (``loadtest.histogram``), so two runs can
be merged or diffed without loss; summaries are stored too, for people and for tools that
do not decode HdrHistogram. ``SCHEMA`` changes when a field changes meaning.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from loadtest.histogram import Latency

SCHEMA = "shopmesh-loadtest/1"

HISTOGRAMS = ("corrected", "uncorrected", "lag", "per_message")
"""corrected: from each request's intended send time (open loop; equal to uncorrected
in a closed loop); uncorrected: from the actual send; lag: how late the generator sent;
per_message: each reply message on a stream, from the send of its request message."""


@dataclass
class Chattiness:
    """Per business operation; None where the figure could not be measured."""

    calls: float | None = None
    """Internal calls (server-side, every hop but the entry), from the per-hop counters."""
    messages: float | None = None
    """Internal messages, both directions, from the per-hop counters."""
    calls_by_service: dict[str, float] = field(default_factory=dict)
    """Calls each process served per operation, the loader's included; empty: not measured."""
    new_connections: float | None = None
    """TCP connections opened (kernel: Tcp ActiveOpens in the run's network namespace)."""
    wire_bytes: float | None = None
    """Bytes on the loopback interface (kernel: /proc/net/dev), loader's included."""
    segments: float | None = None
    """TCP segments sent (kernel: Tcp OutSegs)."""


@dataclass
class Cpu:
    """CPU seconds per business operation, from /proc/<pid>/stat (utime + stime)."""

    server_s: float | None = None
    """All mesh processes together."""
    by_process: dict[str, float] = field(default_factory=dict)
    """Per process; empty: not measured."""
    loader_s: float | None = None
    server_cores: float | None = None
    """Average server cores busy during the measured window."""


@dataclass
class ArmResult:
    """One arm of a run: a scenario driven one way, measured."""

    name: str
    """Stable id, e.g. "grpc-stream", "rest-item", "rest-item-newconn", "rest-batch",
    "grpc-unary", "gateway"."""
    label: str
    scenario: str
    """"lookup", "checkout", "quote-stream" or "mix"."""
    model: str
    """"open" (constant rate) or "closed" (fixed concurrency)."""
    rate_per_s: float | None
    concurrency: int
    items: int
    duration_s: float
    """Measured window (warm-up excluded)."""
    operations: int
    ok: int
    errors: dict[str, int] = field(default_factory=dict)
    """Failures by status, e.g. {"grpc UNAVAILABLE": 2, "http 503": 1, "timeout": 0}."""
    throughput_per_s: float = 0.0
    histograms: dict[str, str] = field(default_factory=dict)
    """Encoded HdrHistograms (microseconds) by name (``HISTOGRAMS``)."""
    summaries: dict[str, dict[str, float]] = field(default_factory=dict)
    """Milliseconds: count, p50, p90, p99, p99.9, max, mean, per histogram."""
    chattiness: Chattiness = field(default_factory=Chattiness)
    cpu: Cpu = field(default_factory=Cpu)
    throughput_per_server_core: float | None = None
    """Operations per server CPU second: throughput / ``cpu.server_cores``."""
    notes: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        """Identifies the arm within a run: one arm name serves several scenarios."""
        return f"{self.scenario}/{self.name}"

    def latency(self, name: str = "corrected") -> Latency | None:
        encoded = self.histograms.get(name)
        return Latency.decode(encoded) if encoded else None

    def set_latency(self, name: str, latency: Latency) -> None:
        self.histograms[name] = latency.encode()
        self.summaries[name] = latency.summary().as_dict()


@dataclass
class MessageCost:
    """Server CPU per message of one pricing process under one workload, measured apart
    from the arms (``loadtest.message_cost``): the process's own CPU over the messages it
    answered, so the loader's cost is left out."""

    workload: str
    """"grpc-stream" (QuoteStream messages), "grpc-unary" (Quote calls) or "rest-item"
    (POST /v1/quotes requests), one quote line each."""
    impl: str
    """"python" or "go"."""
    messages: int
    """Messages (or calls, or requests) answered right."""
    server_cpu_s: float
    wall_s: float
    errors: int = 0

    @property
    def cpu_us_per_message(self) -> float | None:
        return self.server_cpu_s / self.messages * 1e6 if self.messages else None

    @property
    def messages_per_s(self) -> float | None:
        return self.messages / self.wall_s if self.wall_s > 0 else None


@dataclass
class RunResult:
    """A whole run: settings, environment, arms and how each figure was obtained."""

    started_at: str
    settings: dict[str, Any]
    environment: dict[str, Any]
    arms: list[ArmResult]
    method: dict[str, str] = field(default_factory=dict)
    """How each figure was obtained, in a sentence each (printed in reports)."""
    notes: list[str] = field(default_factory=list)
    """Anything a reader must know about the whole run (e.g. no private netns)."""
    message_costs: list[MessageCost] = field(default_factory=list)
    """Server CPU per message of each pricing implementation (empty: not measured)."""
    schema: str = SCHEMA

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=False)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json() + "\n")

    @classmethod
    def from_dict(cls, document: dict[str, Any]) -> RunResult:
        if document.get("schema") != SCHEMA:
            raise ValueError(f"not a {SCHEMA} report (schema {document.get('schema')!r})")
        arms = []
        for raw in document["arms"]:
            values = dict(raw)
            values["chattiness"] = Chattiness(**values.get("chattiness", {}))
            values["cpu"] = Cpu(**values.get("cpu", {}))
            arms.append(ArmResult(**values))
        return cls(
            started_at=document["started_at"],
            settings=document["settings"],
            environment=document["environment"],
            arms=arms,
            method=document.get("method", {}),
            notes=document.get("notes", []),
            message_costs=[MessageCost(**cost) for cost in document.get("message_costs", [])],
        )

    @classmethod
    def load(cls, path: Path) -> RunResult:
        return cls.from_dict(json.loads(path.read_text()))
