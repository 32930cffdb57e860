"""The ADOT collector sidecar: pinned, non-essential, its own logs, the app pointed at it,
X-Ray write access only with tracing on, and room for it in the task."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

import pytest

from cloudformation import CfnConfigError, StackConfig, build_edge, build_service, deploy_order
from cloudformation.tracing import COLLECTOR, XRAY_ACTIONS

BASE = StackConfig(egress="nat")
TRACED = replace(BASE, tracing=True)


def task_parts(config: StackConfig, key: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The task definition's properties and the task role's of stack ``key``."""
    stack = next(s for s in deploy_order(config) if s.key == key)
    resources = json.loads(stack.build().to_json())["Resources"]
    return resources["TaskDefinition"]["Properties"], resources["TaskRole"]["Properties"]


TASK_STACKS = [f"svc-{spec.name}" for spec in BASE.manifest.services] + ["edge"]


@pytest.mark.parametrize("key", TASK_STACKS)
def test_every_task_gets_a_pinned_non_essential_collector(key: str) -> None:
    """The sidecar image is pinned (never latest), non-essential, logs under its own prefix,
    and fits beside the app in the task's Fargate size."""
    task, _ = task_parts(TRACED, key)
    app, collector = task["ContainerDefinitions"]
    assert collector["Name"] == COLLECTOR
    repository, _, tag = collector["Image"].rpartition(":")
    assert repository == "public.ecr.aws/aws-observability/aws-otel-collector"
    assert re.fullmatch(r"v\d+\.\d+\.\d+", tag), f"{tag!r} is not a pinned version"
    assert collector["Essential"] is False
    assert collector["Command"] == ["--config=/etc/ecs/ecs-xray.yaml"]
    assert collector["LogConfiguration"]["Options"]["awslogs-stream-prefix"] == COLLECTOR
    assert collector["Memory"] < int(task["Memory"])
    assert collector["Cpu"] < int(task["Cpu"])
    assert app["Essential"] is True


@pytest.mark.parametrize("key", TASK_STACKS)
def test_app_exports_otlp_to_the_sidecar_after_it_starts(key: str) -> None:
    """The app's OTEL_* variables point at localhost:4317 under its own service name, and
    it starts after the collector."""
    task, _ = task_parts(TRACED, key)
    app = task["ContainerDefinitions"][0]
    env = {e["Name"]: e["Value"] for e in app["Environment"]}
    assert env["OTEL_TRACES_EXPORTER"] == "otlp"
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://localhost:4317"
    assert env["OTEL_SERVICE_NAME"] == app["Name"]
    assert app["DependsOn"] == [{"ContainerName": COLLECTOR, "Condition": "START"}]


@pytest.mark.parametrize("key", TASK_STACKS)
def test_xray_permissions_only_with_tracing(key: str) -> None:
    """The task role may write to X-Ray with tracing on, and has no X-Ray action without."""
    _, role = task_parts(TRACED, key)
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    assert {"Effect": "Allow", "Action": list(XRAY_ACTIONS), "Resource": "*"} in statements
    task, plain_role = task_parts(BASE, key)
    assert "xray:" not in json.dumps(plain_role)
    assert len(task["ContainerDefinitions"]) == 1
    assert "OTEL_" not in json.dumps(task)


def test_tracing_changes_only_the_task_stacks() -> None:
    """Network, registry and mesh are byte-identical with tracing on."""
    plain = {s.key: s.build().to_json() for s in deploy_order(BASE)}
    traced = {s.key: s.build().to_json() for s in deploy_order(TRACED)}
    assert {k for k in plain if plain[k] != traced[k]} == set(TASK_STACKS)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"egress": "endpoints"}, "egress='nat'"),
        ({"collector_memory_mib": 768}, "larger Fargate size"),
        ({"collector_cpu": 192}, "larger Fargate size"),
        ({"collector_cpu": 0}, "larger Fargate size"),
    ],
)
def test_tracing_without_room_or_route_is_refused(change: dict[str, Any], message: str) -> None:
    """No NAT (public.ecr.aws is unreachable) or too small a task is a build-time error."""
    with pytest.raises(CfnConfigError, match=message):
        build_edge(replace(TRACED, **change))


def test_larger_task_makes_room_for_a_larger_collector() -> None:
    """The same collector fits in the next Fargate size."""
    config = replace(TRACED, cpu=512, memory_mib=1024, collector_memory_mib=384)
    task, _ = task_parts(config, "svc-catalog")
    assert task["ContainerDefinitions"][1]["Memory"] == 384
    assert build_service(config, config.service("orders"))
