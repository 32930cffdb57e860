"""What a real account needs beyond lint: single tasks that never overlap, health-check
grace, updates that exports cannot block, names AWS accepts, room for the Service
Connect proxy, the infrastructure role's documented trust, optional ALB access logs."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

import pytest

from cloudformation import CfnConfigError, StackConfig, deploy_order
from cloudformation.config import (
    APP_MIN_CPU,
    APP_MIN_MEMORY_MIB,
    RESERVED_NAME_PREFIXES,
    SERVICE_CONNECT_PROXY_CPU,
    SERVICE_CONNECT_PROXY_MEMORY_MIB,
)
from cloudformation.names import service_stack
from cloudformation.plan import check_imports
from meshkit.manifest import Manifest

SQLITE = StackConfig()
DYNAMODB = StackConfig(storage="dynamodb")


def templates(config: StackConfig) -> dict[str, dict[str, Any]]:
    return {stack.key: json.loads(stack.build().to_json()) for stack in deploy_order(config)}


SQLITE_TEMPLATES = templates(SQLITE)
DYNAMODB_TEMPLATES = templates(DYNAMODB)


def of_type(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r.get("Properties", {}) for r in template["Resources"].values() if r["Type"] == kind]


def ecs_service(template: dict[str, Any]) -> dict[str, Any]:
    (service,) = of_type(template, "AWS::ECS::Service")
    return service


def exports(stacks: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Export name → exported value, over every stack."""
    return {
        json.dumps(output["Export"]["Name"]): output["Value"]
        for template in stacks.values()
        for output in template.get("Outputs", {}).values()
        if "Export" in output
    }


@pytest.mark.parametrize(
    ("config", "single"),
    [
        (SQLITE, {"inventory", "payments", "orders"}),
        (DYNAMODB, {"orders"}),
    ],
    ids=["sqlite", "dynamodb"],
)
def test_single_task_services_stop_before_they_start_and_others_roll(
    config: StackConfig, single: set[str]
) -> None:
    """A service that must run as one task (orders; SQLite's stateful services) deploys
    with MaximumPercent 100 / MinimumHealthyPercent 0, so two tasks with separate state
    never serve at once, and defaults to one task; the others roll 200/100."""
    stacks = SQLITE_TEMPLATES if config is SQLITE else DYNAMODB_TEMPLATES
    for spec in config.manifest.services:
        template = stacks[service_stack(spec.name)]
        rollout = ecs_service(template)["DeploymentConfiguration"]
        percents = (rollout["MaximumPercent"], rollout["MinimumHealthyPercent"])
        if spec.name in single:
            assert percents == (100, 0), spec.name
            assert template["Parameters"]["MaxCount"]["Default"] == 1
        else:
            assert percents == (200, 100), spec.name
        assert rollout["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}


@pytest.mark.parametrize("key", [k for k in SQLITE_TEMPLATES if k.startswith("svc-")] + ["edge"])
def test_every_ecs_service_has_a_health_check_grace_period(key: str) -> None:
    """ECS ignores failing container, Lattice and load balancer checks of a new task for
    the grace period, which covers the container check's own start period."""
    service = ecs_service(SQLITE_TEMPLATES[key])
    (task,) = of_type(SQLITE_TEMPLATES[key], "AWS::ECS::TaskDefinition")
    start_period = task["ContainerDefinitions"][0]["HealthCheck"]["StartPeriod"]
    assert service["HealthCheckGracePeriodSeconds"] >= start_period


def test_no_export_carries_the_consumer_principals() -> None:
    """Who may call through Lattice changes; an imported export cannot. Every stack with a
    Lattice auth policy takes the principals as its own parameter instead."""
    assert not any("Principals" in name for name in exports(SQLITE_TEMPLATES))
    for key, template in SQLITE_TEMPLATES.items():
        if of_type(template, "AWS::VpcLattice::AuthPolicy"):
            assert template["Parameters"]["LatticeConsumerPrincipals"]["Default"] == "", key


def _shifted_ports(manifest: Manifest) -> Manifest:
    services = tuple(
        replace(spec, grpc_port=spec.grpc_port + 100, health_port=spec.health_port + 100)
        for spec in manifest.services
    )
    return replace(manifest, services=services)


def test_changing_ports_changes_no_exported_value() -> None:
    """Ports travel in each template, never through an export, so a port change can never
    be refused as an update of an export that another stack imports."""
    moved = templates(replace(SQLITE, manifest=_shifted_ports(SQLITE.manifest)))
    assert exports(moved) == exports(SQLITE_TEMPLATES)


def test_lattice_target_group_names_carry_the_port() -> None:
    """The target group's port is create-only: a new port replaces the group, which only
    works under a new name, so the name says the port."""
    for spec in SQLITE.manifest.services:
        (group,) = of_type(
            SQLITE_TEMPLATES[service_stack(spec.name)], "AWS::VpcLattice::TargetGroup"
        )
        assert group["Name"] == {"Fn::Sub": f"${{EnvironmentName}}-{spec.name}-{spec.grpc_port}"}


@pytest.mark.parametrize("key", list(SQLITE_TEMPLATES))
def test_environment_name_refuses_reserved_prefixes(key: str) -> None:
    """Every stack's EnvironmentName pattern refuses svc-, tg-, servicenetwork- and
    internal-, which Lattice and load balancer names may not start with."""
    pattern = SQLITE_TEMPLATES[key]["Parameters"]["EnvironmentName"]["AllowedPattern"]
    assert re.match(pattern, "shopmesh")
    assert re.match(pattern, "dev-2")
    for prefix in RESERVED_NAME_PREFIXES:
        assert not re.match(pattern, f"{prefix}x"), prefix


@pytest.mark.parametrize("key", [k for k in SQLITE_TEMPLATES if k.startswith("svc-")] + ["edge"])
def test_task_size_leaves_room_for_the_service_connect_proxy(key: str) -> None:
    """AWS asks for 256 CPU units and 64 MiB per task for the Service Connect proxy; the
    app keeps at least its minimum beside it."""
    (task,) = of_type(SQLITE_TEMPLATES[key], "AWS::ECS::TaskDefinition")
    assert int(task["Cpu"]) - SERVICE_CONNECT_PROXY_CPU >= APP_MIN_CPU
    assert int(task["Memory"]) - SERVICE_CONNECT_PROXY_MEMORY_MIB >= APP_MIN_MEMORY_MIB


def test_infrastructure_role_trust_is_as_ecs_documents_it() -> None:
    """ECS assumes the Lattice infrastructure role with the documented trust policy (no
    condition); task roles keep the aws:SourceAccount guard."""
    resources = SQLITE_TEMPLATES["mesh"]["Resources"]
    (statement,) = resources["EcsInfrastructureRole"]["Properties"]["AssumeRolePolicyDocument"][
        "Statement"
    ]
    assert statement == {
        "Effect": "Allow",
        "Principal": {"Service": "ecs.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }
    task_role = SQLITE_TEMPLATES["svc-orders"]["Resources"]["TaskRole"]["Properties"]
    (guarded,) = task_role["AssumeRolePolicyDocument"]["Statement"]
    assert "aws:SourceAccount" in guarded["Condition"]["StringEquals"]


def test_alb_access_logs_are_an_option_off_by_default() -> None:
    """AccessLogsBucket (empty by default) switches the balancer's access logs on, into
    that bucket under the environment's prefix."""
    edge = SQLITE_TEMPLATES["edge"]
    assert edge["Parameters"]["AccessLogsBucket"]["Default"] == ""
    (balancer,) = of_type(edge, "AWS::ElasticLoadBalancingV2::LoadBalancer")
    attributes = json.dumps(balancer["LoadBalancerAttributes"])
    assert '"access_logs.s3.enabled", "Value": {"Fn::If": ["HasAccessLogs", "true", "false"]}' in (
        attributes
    )
    assert '"access_logs.s3.bucket", "Value": {"Ref": "AccessLogsBucket"}' in attributes


def test_a_plan_whose_imports_come_from_nowhere_earlier_is_refused() -> None:
    """The deploy checks, before any AWS call, that every import of a stack is exported by
    a stack it deploys after; the real plan passes, a broken one is named."""
    plan = deploy_order(SQLITE)
    bodies = {stack.key: stack.build().to_dict() for stack in plan}
    check_imports(plan, bodies)
    broken = [replace(s, after=("network",)) if s.key == "svc-orders" else s for s in plan]
    with pytest.raises(CfnConfigError, match=r"stack svc-orders imports .* does not deploy after"):
        check_imports(broken, bodies)


def test_go_implementations_get_their_own_image_and_a_shell_free_health_check() -> None:
    """With impl=go, the Go services' containers probe themselves (their scratch image has
    no shell); Python ones keep the interpreter's probe."""
    stacks = templates(replace(SQLITE, impl="go"))
    for spec in SQLITE.manifest.services:
        (task,) = of_type(stacks[service_stack(spec.name)], "AWS::ECS::TaskDefinition")
        command = task["ContainerDefinitions"][0]["HealthCheck"]["Command"]
        if spec.go is not None:
            assert command == ["CMD", f"/{spec.name}", "--healthcheck"]
        else:
            assert command[:2] == ["CMD", "python"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"impl": "go", "storage": "dynamodb"}, "inventory runs its Go implementation"),
        ({"impl": "rust"}, "unknown implementation 'rust'"),
        ({"impl": "orders=go"}, "orders has no go implementation"),
    ],
)
def test_an_implementation_that_cannot_deploy_is_refused(
    change: dict[str, str], message: str
) -> None:
    """The Go inventory keeps SQLite only; unknown or missing implementations are named."""
    with pytest.raises(CfnConfigError, match=message):
        deploy_order(replace(SQLITE, **change))  # type: ignore[arg-type]
