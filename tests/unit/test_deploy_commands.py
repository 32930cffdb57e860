"""The commands ``make deploy`` prints after a deployment are paste-ready: the way in (an
operator task in the mesh's subnets, a shell in it through ECS Exec), a signing proxy per
Lattice service, grpcurl lines whose methods the protoset knows (checked by grpcurl
itself, offline) and whose data is the runner's tested examples, and curl for URLs."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

from cloudformation.deploy.commands import (
    IMAGE_PROTOSET,
    PROTOSET,
    curl_commands,
    grpcurl_commands,
    lattice_commands,
)
from cloudformation.names import Exports
from meshkit.manifest import load_manifest

GRPCURL = Path(sys.executable).parent / "grpcurl"
DNS = "catalog-0a1b2c.7d67968.vpc-lattice-svcs.eu-west-1.on.aws"


def test_grpcurl_lines_go_through_the_proxy_and_name_real_methods() -> None:
    """Only services with a Lattice DNS name get lines; each call's method is one the
    protoset describes and its data is JSON."""
    specs = load_manifest().services
    lines = grpcurl_commands(specs, {Exports.lattice_dns("catalog"): DNS}, "eu-west-1")
    assert lines[0].startswith("# catalog:")
    assert lines[1] == (
        f"python -m cloudformation.sigv4_proxy --listen 127.0.0.1:8443 --target {DNS}:443"
        " --region eu-west-1 &"
    )
    calls = [shlex.split(line) for line in lines if line.startswith("grpcurl")]
    assert calls
    for argv in calls:
        assert argv[:4] == ["grpcurl", "-plaintext", "-protoset", PROTOSET]
        for message in argv[argv.index("-d") + 1].splitlines():
            json.loads(message)
        method = argv[-1]
        assert method.startswith("shopmesh.catalog.v1.CatalogService/")
        described = subprocess.run(
            [str(GRPCURL), "-protoset", PROTOSET, "describe", method.replace("/", ".")],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        assert described.returncode == 0, described.stderr
        assert "rpc " in described.stdout
    assert lines[-1] == "kill %1"


def test_curl_lines_only_for_url_outputs() -> None:
    """The gateway URL gets a curl line; other outputs do not."""
    outputs = {"GatewayUrl": "https://shop.example", "CatalogLatticeDnsName": DNS}
    assert curl_commands(outputs) == ["curl -s https://shop.example"]


OUTPUTS = {
    Exports.lattice_dns("catalog"): DNS,
    "OperatorTaskDefinition": "dev-operator",
    Exports.CLUSTER_NAME: "dev-cluster",
    Exports.PRIVATE_SUBNETS: "subnet-1,subnet-2",
    Exports.TASK_SECURITY_GROUP: "sg-9",
}


def test_with_an_operator_stack_the_way_in_comes_first_then_calls_inside_it() -> None:
    """The operator task is run in the private subnets with the mesh's task group and ECS
    Exec on, a shell is opened in it, and the grpcurl calls use the image's protoset."""
    lines = lattice_commands(load_manifest().services, OUTPUTS, "eu-west-1")
    run = shlex.split(
        next(line for line in lines if " run-task " in line)
        .removeprefix("TASK=$(")
        .removesuffix(")")
    )
    assert run[:4] == ["aws", "ecs", "--region", "eu-west-1"]
    assert run[run.index("--cluster") + 1] == "dev-cluster"
    assert run[run.index("--task-definition") + 1] == "dev-operator"
    assert "--enable-execute-command" in run
    assert run[run.index("--network-configuration") + 1] == (
        "awsvpcConfiguration={subnets=[subnet-1,subnet-2],securityGroups=[sg-9],"
        "assignPublicIp=DISABLED}"
    )
    shell = next(line for line in lines if " execute-command " in line)
    assert "--container operator --interactive --command sh" in shell
    calls = [shlex.split(line) for line in lines if line.startswith("grpcurl")]
    assert calls
    assert all(argv[3] == IMAGE_PROTOSET for argv in calls)
    assert lines.index(shell) < lines.index(
        next(line for line in lines if line.startswith("grpcurl"))
    )


def test_without_an_operator_stack_the_calls_say_where_to_run_them() -> None:
    """With OPERATOR=0 the grpcurl lines stand alone, for a host of one's own in an
    associated VPC, with the checkout's protoset."""
    outputs = {Exports.lattice_dns("catalog"): DNS}
    lines = lattice_commands(load_manifest().services, outputs, "eu-west-1")
    assert "associated with the service network" in lines[0]
    assert not any("aws ecs" in line for line in lines)
    assert all(shlex.split(line)[3] == PROTOSET for line in lines if line.startswith("grpcurl"))
