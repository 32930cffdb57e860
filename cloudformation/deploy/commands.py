"""Paste-ready commands for a deployed mesh: the way in to the Lattice services (an
operator task with a shell, ECS Exec), grpcurl through the SigV4 proxy to each of them,
and curl for every URL output."""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence

from cloudformation.names import Exports
from cloudformation.operator import OPERATOR, TASK_DEFINITION_OUTPUT
from cloudformation.sigv4_proxy import DEFAULT_LISTEN
from meshkit.examples import load_examples
from meshkit.manifest import ServiceSpec

PROTOSET = "gen/descriptors.binpb"
"""grpcurl reads the API from here (Lattice admits no reflection unless allowed), in a
checkout; the images carry the same file at IMAGE_PROTOSET."""
IMAGE_PROTOSET = "/opt/shopmesh/descriptors.binpb"


def operator_commands(outputs: Mapping[str, str], region: str) -> list[str]:
    """Start an operator task in the mesh's private subnets and open a shell in it; stop
    it afterwards. Empty when the deployment has no operator stack."""
    family = outputs.get(TASK_DEFINITION_OUTPUT)
    if not family:
        return []
    cluster = shlex.quote(outputs[Exports.CLUSTER_NAME])
    subnets = outputs[Exports.PRIVATE_SUBNETS]
    group = outputs[Exports.TASK_SECURITY_GROUP]
    network = (
        f"awsvpcConfiguration={{subnets=[{subnets}],securityGroups=[{group}],"
        "assignPublicIp=DISABLED}"
    )
    ecs = f"aws ecs --region {region}"
    return [
        "# The way in: a shell in the mesh's VPC (AWS CLI v2 and its Session Manager plugin)",
        f"TASK=$({ecs} run-task --cluster {cluster} --task-definition {shlex.quote(family)}"
        f" --launch-type FARGATE --enable-execute-command --network-configuration"
        f" {shlex.quote(network)} --query 'tasks[0].taskArn' --output text)",
        f'{ecs} wait tasks-running --cluster {cluster} --tasks "$TASK"',
        f'{ecs} execute-command --cluster {cluster} --task "$TASK" --container {OPERATOR}'
        " --interactive --command sh",
        f"# when done (it also stops by itself within the hour): {ecs} stop-task --cluster"
        f' {cluster} --task "$TASK"',
    ]


def grpcurl_commands(
    specs: Sequence[ServiceSpec],
    outputs: Mapping[str, str],
    region: str,
    protoset: str = PROTOSET,
) -> list[str]:
    """Per service with a Lattice DNS name: the proxy command, then grpcurl calls, to run
    in a VPC associated with the service network (the operator shell, or a host of yours
    with a checkout)."""
    lines: list[str] = []
    for spec in specs:
        dns = outputs.get(Exports.lattice_dns(spec.name))
        if not dns:
            continue
        lines.append(f"# {spec.name}: signed by the proxy, TLS to Lattice on 443")
        lines.append(
            f"python -m cloudformation.sigv4_proxy --listen {DEFAULT_LISTEN}"
            f" --target {dns}:443 --region {region} &"
        )
        for service in spec.proto_services:
            for example in load_examples().grpc.get(service, ()):
                data = "\n".join(json.dumps(message) for message in example.messages)
                lines.append(
                    f"grpcurl -plaintext -protoset {protoset} -d {shlex.quote(data)}"
                    f" {DEFAULT_LISTEN} {service}/{example.method}"
                )
        lines.append("kill %1")
    return lines


def lattice_commands(
    specs: Sequence[ServiceSpec], outputs: Mapping[str, str], region: str
) -> list[str]:
    """The way in (when there is an operator stack), then the grpcurl calls to run there,
    with the protoset where the operator image keeps it."""
    way_in = operator_commands(outputs, region)
    if not way_in:
        header = "# From a host in a VPC associated with the service network, in a checkout:"
        return [header, *grpcurl_commands(specs, outputs, region)]
    inside = "# Then, in that shell:"
    return [*way_in, inside, *grpcurl_commands(specs, outputs, region, IMAGE_PROTOSET)]


def curl_commands(outputs: Mapping[str, str]) -> list[str]:
    """curl for each output that is a URL (the gateway's)."""
    return [
        f"curl -s {shlex.quote(value)}"
        for key, value in sorted(outputs.items())
        if key.lower().endswith("url") and value.startswith("http")
    ]
