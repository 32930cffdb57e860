"""The text the runner and ``status`` print: a service table and grpcurl commands."""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from services.manifest import ServiceSpec
from services.mesh import plan
from services.mesh.examples import EXAMPLES, Example

GRPCURL_NOTE = "grpcurl is at .venv/bin/grpcurl (`source .venv/bin/activate` puts it on PATH)"


@dataclass(frozen=True)
class Row:
    """One service's line in the table."""

    name: str
    grpc: str
    healthz: str
    state: str
    pid: int | None = None


def rows(
    specs: Sequence[ServiceSpec],
    host: str,
    states: Mapping[str, str],
    pids: Mapping[str, int] | None = None,
) -> list[Row]:
    """A row per service; a service with no known state shows as UNKNOWN."""
    return [
        Row(
            name=spec.name,
            grpc=plan.grpc_address(spec, host),
            healthz=plan.healthz_url(spec, host),
            state=states.get(spec.name, "UNKNOWN"),
            pid=(pids or {}).get(spec.name),
        )
        for spec in specs
    ]


def render_table(table: Sequence[Row]) -> str:
    """Left-aligned columns; the PID column only when some row has a pid."""
    header = ["SERVICE", "GRPC", "HEALTHZ", "STATE"]
    cells = [[r.name, r.grpc, r.healthz, r.state] for r in table]
    if any(r.pid is not None for r in table):
        header.append("PID")
        for cell, r in zip(cells, table, strict=True):
            cell.append("" if r.pid is None else str(r.pid))
    widths = [max(len(line[i]) for line in (header, *cells)) for i in range(len(header))]
    return "\n".join(
        "  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip()
        for line in (header, *cells)
    )


def grpcurl_commands(spec: ServiceSpec, host: str) -> list[str]:
    """Paste-ready commands for one service: list, describe, examples, health."""
    target = plan.grpc_address(spec, host)
    commands = [f"grpcurl -plaintext {target} list"]
    for service in spec.proto_services:
        commands.append(f"grpcurl -plaintext {target} describe {service}")
        commands += [_call(target, service, e) for e in EXAMPLES.get(service, ())]
    commands.append(_call(target, "grpc.health.v1.Health", Example("Check", {"service": ""})))
    commands.append(f"curl -s {plan.healthz_url(spec, host)}")
    return commands


def render_grpcurl(specs: Sequence[ServiceSpec], host: str) -> str:
    """Every service's commands under its name, then the note on where grpcurl is."""
    blocks = ["\n".join([f"# {spec.name}", *grpcurl_commands(spec, host)]) for spec in specs]
    return "\n\n".join([*blocks, f"# {GRPCURL_NOTE}"])


def _call(target: str, service: str, example: Example) -> str:
    body = shlex.quote(" ".join(json.dumps(m, separators=(",", ":")) for m in example.messages))
    command = f"grpcurl -plaintext -d {body} {target} {service}/{example.method}"
    return f"{command}  # {example.note}" if example.note else command
