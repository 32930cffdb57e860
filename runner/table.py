"""The text the runner and ``status`` print: a table of services (and the gateway),
grpcurl commands, and curl commands for the gateway and for a REST mesh's services."""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from meshkit.examples import DOCS_PATH, CurlExample, Example, load_examples
from meshkit.manifest import GatewaySpec, ServiceSpec
from meshkit.probes import LIVENESS_PATH, METRICS_PATH
from runner import plan

GRPCURL_NOTE = "grpcurl is at .venv/bin/grpcurl (`source .venv/bin/activate` puts it on PATH)"
GATEWAY_HEADING = "# gateway (REST/JSON)"
REST_HEADING = "(REST/JSON baseline)"
"""After a REST service's process name: ``# orders-rest (REST/JSON baseline)``."""


@dataclass(frozen=True)
class Row:
    """One line in the table: a service's gRPC address or REST base URL, or the gateway's
    base URL; ``name`` is the process name (``orders``, ``orders-rest``, ``gateway``)."""

    name: str
    address: str
    healthz: str
    state: str
    pid: int | None = None
    restarts: int = 0
    """How many times the runner restarted it."""


def rows(
    specs: Sequence[ServiceSpec],
    host: str,
    states: Mapping[str, str],
    pids: Mapping[str, int] | None = None,
    gateway: GatewaySpec | None = None,
    transport: str = plan.GRPC,
    restarts: Mapping[str, int] | None = None,
) -> list[Row]:
    """A row per service, then one for the gateway if given; ``states``, ``pids`` and
    ``restarts`` are keyed by process name, and no known state is UNKNOWN."""
    found = pids or {}
    restarted = restarts or {}
    table = []
    for spec in specs:
        name = plan.process_name(spec.name, transport)
        table.append(
            Row(
                name=name,
                address=plan.address(spec, host, transport),
                healthz=plan.healthz_url(spec, host, transport),
                state=states.get(name, "UNKNOWN"),
                pid=found.get(name),
                restarts=restarted.get(name, 0),
            )
        )
    if gateway is not None:
        table.append(
            Row(
                name=gateway.name,
                address=plan.gateway_url(gateway, host),
                healthz=plan.gateway_healthz_url(gateway, host),
                state=states.get(gateway.name, "UNKNOWN"),
                pid=found.get(gateway.name),
                restarts=restarted.get(gateway.name, 0),
            )
        )
    return table


def render_table(table: Sequence[Row]) -> str:
    """Left-aligned columns; the PID column only when some row has a pid, the RESTARTS
    column only once something was restarted."""
    header = ["SERVICE", "ADDRESS", "HEALTHZ", "STATE"]
    cells = [[r.name, r.address, r.healthz, r.state] for r in table]
    if any(r.pid is not None for r in table):
        header.append("PID")
        for cell, r in zip(cells, table, strict=True):
            cell.append("" if r.pid is None else str(r.pid))
    if any(r.restarts for r in table):
        header.append("RESTARTS")
        for cell, r in zip(cells, table, strict=True):
            cell.append(str(r.restarts))
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
        commands += [_call(target, service, e) for e in load_examples().grpc.get(service, ())]
    commands.append(_call(target, "grpc.health.v1.Health", Example("Check", {"service": ""})))
    commands.append(f"curl -s {plan.healthz_url(spec, host)}")
    return commands


def render_grpcurl(specs: Sequence[ServiceSpec], host: str) -> str:
    """Every service's commands under its name, then the note on where grpcurl is."""
    blocks = ["\n".join([f"# {spec.name}", *grpcurl_commands(spec, host)]) for spec in specs]
    return "\n\n".join([*blocks, f"# {GRPCURL_NOTE}"])


def curl_commands(gateway: GatewaySpec, host: str) -> list[str]:
    """Paste-ready (bash) curl commands for the gateway's examples, its health and docs."""
    base = plan.gateway_url(gateway, host)
    commands = [curl_command(base, example) for example in load_examples().gateway]
    commands.append(f"curl -s {shlex.quote(plan.gateway_healthz_url(gateway, host))}")
    commands.append(f"# API docs in a browser: {base}{DOCS_PATH}")
    return commands


def render_curl(gateway: GatewaySpec, host: str) -> str:
    """The gateway's curl commands under one heading."""
    return "\n".join([GATEWAY_HEADING, *curl_commands(gateway, host)])


def rest_curl_commands(spec: ServiceSpec, host: str) -> list[str]:
    """Paste-ready (bash) curl commands for one REST service: its examples, health and
    counters."""
    base = plan.rest_url(spec, host)
    commands = [curl_command(base, example) for example in load_examples().rest.get(spec.name, ())]
    commands.append(f"curl -s {shlex.quote(base + LIVENESS_PATH)}")
    commands.append(f"curl -s {shlex.quote(base + METRICS_PATH)}")
    return commands


def render_rest_curl(specs: Sequence[ServiceSpec], host: str) -> str:
    """Every REST service's curl commands under its process name."""
    return "\n\n".join(
        "\n".join(
            [
                f"# {plan.process_name(spec.name, plan.REST)} {REST_HEADING}",
                *rest_curl_commands(spec, host),
            ]
        )
        for spec in specs
    )


def curl_command(base_url: str, example: CurlExample) -> str:
    """One example as a curl command line for bash."""
    words = ["curl", "-sN" if example.streams else "-s"]
    # curl sends GET without a body and POST with one; say so only when that differs.
    if example.method != ("GET" if example.body is None else "POST"):
        words += ["-X", example.method]
    words.append(shlex.quote(base_url + example.path))
    if example.content_type is not None and example.data is not None:
        words += ["-H", shlex.quote(f"content-type: {example.content_type}")]
    for header, value in example.headers:
        words += ["-H", shlex.quote(f"{header}: {value}")]
    if example.data is not None:
        if "\n" in example.data:  # NDJSON: newlines need bash's $'...' quoting
            words += ["--data-binary", _ansi_c_quote(example.data)]
        else:
            words += ["-d", shlex.quote(example.data)]
    command = " ".join(words)
    if example.pipe:
        command += f" | {example.pipe}"
    return f"{command}  # {example.note}" if example.note else command


def _ansi_c_quote(text: str) -> str:
    """``text`` as a bash ``$'...'`` word: backslashes, quotes and newlines escaped."""
    escaped = text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n")
    return f"$'{escaped}'"


def _call(target: str, service: str, example: Example) -> str:
    body = shlex.quote(" ".join(json.dumps(m, separators=(",", ":")) for m in example.messages))
    command = f"grpcurl -plaintext -d {body} {target} {service}/{example.method}"
    return f"{command}  # {example.note}" if example.note else command
