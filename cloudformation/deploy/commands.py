"""Paste-ready commands for a deployed mesh: grpcurl through the SigV4 proxy to each
Lattice service (TLS from the proxy on), and curl for every URL output."""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence

from cloudformation.names import Exports
from cloudformation.sigv4_proxy import DEFAULT_LISTEN
from meshkit.examples import load_examples
from meshkit.manifest import ServiceSpec

PROTOSET = "gen/descriptors.binpb"
"""grpcurl reads the API from here: Lattice admits no reflection unless allowed."""


def grpcurl_commands(
    specs: Sequence[ServiceSpec], outputs: Mapping[str, str], region: str
) -> list[str]:
    """Per service with a Lattice DNS name: the proxy command, then grpcurl calls."""
    lines: list[str] = []
    for spec in specs:
        dns = outputs.get(Exports.lattice_dns(spec.name))
        if not dns:
            continue
        lines.append(f"# {spec.name}: from a host in a VPC associated with the service network")
        lines.append(
            f"python -m cloudformation.sigv4_proxy --listen {DEFAULT_LISTEN}"
            f" --target {dns}:443 --region {region} &"
        )
        for service in spec.proto_services:
            for example in load_examples().grpc.get(service, ()):
                data = "\n".join(json.dumps(message) for message in example.messages)
                lines.append(
                    f"grpcurl -plaintext -protoset {PROTOSET} -d {shlex.quote(data)}"
                    f" {DEFAULT_LISTEN} {service}/{example.method}"
                )
        lines.append("kill %1")
    return lines


def curl_commands(outputs: Mapping[str, str]) -> list[str]:
    """curl for each output that is a URL (the gateway's)."""
    return [
        f"curl -s {shlex.quote(value)}"
        for key, value in sorted(outputs.items())
        if key.lower().endswith("url") and value.startswith("http")
    ]
