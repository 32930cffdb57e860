"""Building the stacks: egress modes, manifest-driven service stacks, build-time rejection
of invalid values, and the synth command."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from cloudformation import CfnConfigError, StackConfig, build_network, build_service, deploy_order
from cloudformation.__main__ import main
from cloudformation.network import EXEC_ENDPOINT, INTERFACE_ENDPOINTS
from meshkit.manifest import Manifest, parse_manifest

BASE = StackConfig()


def types(config: StackConfig) -> list[str]:
    """The resource types of the network stack built from ``config``."""
    template = json.loads(build_network(config).to_json())
    return [r["Type"] for r in template["Resources"].values()]


def endpoint_services(config: StackConfig) -> set[str]:
    template = json.loads(build_network(config).to_json())
    return {
        r["Properties"]["ServiceName"]["Fn::Sub"].rsplit("}.", 1)[1]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::EC2::VPCEndpoint"
    }


def test_default_egress_is_vpc_endpoints_without_nat() -> None:
    """By default tasks reach ECR, logs, SSM and S3 through endpoints (and the operator
    shell Session Manager's channels); no NAT, no EIP."""
    assert endpoint_services(BASE) == {*INTERFACE_ENDPOINTS, EXEC_ENDPOINT, "s3", "dynamodb"}
    assert "AWS::EC2::NatGateway" not in types(BASE)
    assert types(BASE).count("AWS::EC2::Subnet") == 4


def test_nat_egress_switch_replaces_interface_endpoints() -> None:
    """egress="nat" adds NAT gateways (one per AZ on request) and drops interface endpoints."""
    single = replace(BASE, egress="nat")
    assert types(single).count("AWS::EC2::NatGateway") == 1
    assert endpoint_services(single) == {"s3", "dynamodb"}
    per_az = replace(BASE, egress="nat", nat_per_az=True, availability_zones=3)
    assert types(per_az).count("AWS::EC2::NatGateway") == 3
    assert types(per_az).count("AWS::EC2::Subnet") == 6


def with_extra_service(**overrides: Any) -> Manifest:
    """The shop's manifest plus a ``reviews`` service (overrides change its table)."""
    raw: dict[str, Any] = {
        "mesh": {"name": "shopmesh"},
        "services": {
            spec.name: {
                "grpc_port": spec.grpc_port,
                "health_port": spec.health_port,
                "proto_services": list(spec.proto_services),
                "depends_on": list(spec.depends_on),
            }
            for spec in BASE.manifest.services
        },
    }
    raw["services"]["reviews"] = {
        "grpc_port": 50070,
        "health_port": 8070,
        "proto_services": ["shopmesh.reviews.v1.ReviewsService"],
        "depends_on": ["catalog"],
        **overrides,
    }
    return parse_manifest(raw)


def test_new_manifest_entry_yields_its_own_service_stack() -> None:
    """A service added only to the manifest gets a stack, ordered after its dependency."""
    config = StackConfig(manifest=with_extra_service())
    order = [stack.key for stack in deploy_order(config)]
    assert order.index("svc-catalog") < order.index("svc-reviews")
    template = json.loads(build_service(config, config.service("reviews")).to_json())
    check = template["Resources"]["LatticeTargetGroup"]["Properties"]["Config"]["HealthCheck"]
    assert check["Port"] == 8070
    (definition,) = template["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"]
    # No module: not a Python image, so the health probe uses wget rather than python.
    assert definition["HealthCheck"]["Command"][0] == "CMD-SHELL"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"stop_timeout_s": 14}, r"below drain delay \+ grace"),
        ({"stop_timeout_s": 121}, "exceeds Fargate"),
        ({"grace_s": 30.0, "stop_timeout_s": 20}, r"below drain delay \+ grace"),
        ({"idle_timeout_s": 60}, "must exceed the 60 s keepalive"),
        ({"idle_timeout_s": 601}, "60..600"),
        ({"stream_heartbeat_s": 120.0}, r"idle_timeout_s=300 is below 3 stream heartbeats"),
        ({"alb_idle_timeout_s": 120}, r"alb_idle_timeout_s=120 is below 3 stream heartbeats"),
        ({"cpu": 256, "memory_mib": 512}, "beside the Service Connect proxy"),
        ({"health_check_grace_s": -1}, "health_check_grace_s must not be negative"),
        ({"availability_zones": 4}, "availability_zones must be 2 or 3"),
        ({"cpu": 256, "memory_mib": 4096}, "not a Fargate task size"),
        ({"vpc_cidr": "10.0.0.0/24"}, "vpc_cidr must be a /16../20 block"),
        ({"health_path": "healthz"}, "health_path must start with '/'"),
        ({"gateway_grace_s": 30.0}, r"below the gateway's drain \+ grace = 35 s"),
        ({"alb_idle_timeout_s": 0}, r"alb_idle_timeout_s=0 must lie in 1\.\.4000"),
    ],
)
def test_invalid_config_is_rejected_at_build_time(change: dict[str, Any], message: str) -> None:
    """A bad config value fails every builder with a message naming it."""
    with pytest.raises(CfnConfigError, match=message):
        build_network(replace(BASE, **change))


def hand_built(**changes: Any) -> Manifest:
    """The shop's manifest with ``changes`` applied to its orders entry, unvalidated."""
    services = tuple(
        replace(spec, **changes) if spec.name == "orders" else spec
        for spec in BASE.manifest.services
    )
    return replace(BASE.manifest, services=services)


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        (hand_built(grpc_port=50051), "port 50051 used by catalog and orders"),
        (hand_built(health_port=50055), "port 50055 used by orders and orders"),
        (hand_built(depends_on=("billing",)), "'billing', which is not in the manifest"),
        (hand_built(name="a-very-long-service-name"), "VPC Lattice service name limit"),
    ],
)
def test_invalid_manifest_is_rejected_at_build_time(manifest: Manifest, message: str) -> None:
    """Collisions, unknown dependencies and over-long names fail before any template."""
    with pytest.raises(CfnConfigError, match=message):
        deploy_order(replace(BASE, manifest=manifest))


def test_dependency_listed_after_its_caller_is_rejected() -> None:
    """A manifest whose order would deploy a caller before its dependency is refused."""
    services = tuple(reversed(BASE.manifest.services))
    with pytest.raises(CfnConfigError, match="comes after it in the manifest"):
        deploy_order(replace(BASE, manifest=replace(BASE.manifest, services=services)))


def test_service_spec_must_be_the_manifests() -> None:
    """build_service refuses a spec that is not the manifest's entry of that name."""
    spec = replace(BASE.service("catalog"), grpc_port=50099)
    with pytest.raises(ValueError, match="differs from the manifest"):
        build_service(BASE, spec)


def test_synth_writes_json_and_yaml_per_stack(tmp_path: Path) -> None:
    """The CLI writes <stack>.json and <stack>.yaml for every stack and exits 0."""
    assert main(["synth", "--out", str(tmp_path)]) == 0
    keys = [stack.key for stack in deploy_order(BASE)]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"{key}.{suffix}" for key in keys for suffix in ("json", "yaml")
    )
    mesh = json.loads((tmp_path / "mesh.json").read_text(encoding="utf-8"))
    assert "LatticeServiceNetworkId" in mesh["Outputs"]
    assert "AuthType: AWS_IAM" in (tmp_path / "mesh.yaml").read_text(encoding="utf-8")


def test_synth_reports_an_invalid_manifest_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A manifest with an unknown dependency makes synth fail by name, writing nothing."""
    manifest = tmp_path / "mesh.toml"
    manifest.write_text(
        '[mesh]\nname = "shop"\n[services.alpha]\ngrpc_port = 50051\nhealth_port = 8051\n'
        'proto_services = ["shop.alpha.v1.AlphaService"]\ndepends_on = ["beta"]\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    assert main(["synth", "--out", str(out), "--manifest", str(manifest)]) == 2
    assert "unknown service 'beta'" in capsys.readouterr().err
    assert not out.exists()
