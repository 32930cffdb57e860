"""DynamoDB as the AWS storage option: one table per stateful service in the storage
stack, switched on by ``storage="dynamodb"``, each task role scoped to its own table."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from cloudformation import CfnConfigError, StackConfig, build_network, build_storage, deploy_order
from cloudformation.__main__ import main
from cloudformation.names import Exports, service_stack
from cloudformation.storage import TABLE_ACTIONS
from meshkit.manifest import ServiceSpec

SQLITE = StackConfig()
DYNAMODB = StackConfig(storage="dynamodb")
SPECS = DYNAMODB.manifest.services
STATEFUL = [spec for spec in SPECS if spec.stateful]
STATELESS = [spec for spec in SPECS if not spec.stateful]


def templates(config: StackConfig) -> dict[str, dict[str, Any]]:
    return {stack.key: json.loads(stack.build().to_json()) for stack in deploy_order(config)}


SQLITE_TEMPLATES = templates(SQLITE)
DYNAMODB_TEMPLATES = templates(DYNAMODB)
TABLES = {
    props["TableName"]["Fn::Sub"].removeprefix("${EnvironmentName}-"): resource
    for resource in DYNAMODB_TEMPLATES["storage"]["Resources"].values()
    if resource["Type"] == "AWS::DynamoDB::Table"
    for props in [resource["Properties"]]
}


def imported(key: str) -> dict[str, Any]:
    return {"Fn::ImportValue": {"Fn::Sub": f"${{EnvironmentName}}-{key}"}}


def task_role(template: dict[str, Any]) -> dict[str, Any]:
    return template["Resources"]["TaskRole"]["Properties"]  # type: ignore[no-any-return]


def container_env(template: dict[str, Any]) -> dict[str, Any]:
    (definition,) = template["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"]
    return {e["Name"]: e["Value"] for e in definition["Environment"]}


def strings(node: Any) -> Iterator[str]:
    """Every string anywhere below ``node``."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)


def test_one_table_per_stateful_service_and_none_for_stateless_ones() -> None:
    """The storage stack holds exactly the stateful services' tables."""
    assert set(TABLES) == {spec.name for spec in STATEFUL}
    assert STATELESS, "the manifest should exercise the stateless branch"


@pytest.mark.parametrize("name", sorted(TABLES))
def test_table_is_on_demand_recoverable_encrypted_and_protected(name: str) -> None:
    """Generic pk/sk string keys, on-demand billing, PITR, SSE, deletion protection by
    parameter (on by default)."""
    table = TABLES[name]
    props = table["Properties"]
    assert props["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert props["AttributeDefinitions"] == [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "S"},
    ]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"]["SSEEnabled"] is True
    condition, on, off = props["DeletionProtectionEnabled"]["Fn::If"]
    assert (on, off) == (True, False)
    storage = DYNAMODB_TEMPLATES["storage"]
    assert storage["Conditions"][condition] == {
        "Fn::Equals": [{"Ref": "TableDeletionProtection"}, "true"]
    }
    assert storage["Parameters"]["TableDeletionProtection"]["Default"] == "true"
    assert table["UpdateReplacePolicy"] == "Retain"


@pytest.mark.parametrize("spec", STATEFUL, ids=[s.name for s in STATEFUL])
def test_stateful_container_is_told_dynamodb_and_its_own_table(spec: ServiceSpec) -> None:
    """SHOPMESH_STORAGE=dynamodb and SHOPMESH_DYNAMODB_TABLE = its own table's name."""
    variables = container_env(DYNAMODB_TEMPLATES[service_stack(spec.name)])
    assert variables["SHOPMESH_STORAGE"] == "dynamodb"
    assert variables["SHOPMESH_DYNAMODB_TABLE"] == imported(Exports.table_name(spec.name))


@pytest.mark.parametrize("spec", STATEFUL, ids=[s.name for s in STATEFUL])
def test_task_role_reaches_exactly_its_own_table(spec: ServiceSpec) -> None:
    """One statement: item-level actions on its own table ARN and that table's indexes,
    no wildcard resource, no other table, no Scan or administration."""
    (policy,) = task_role(DYNAMODB_TEMPLATES[service_stack(spec.name)])["Policies"]
    (statement,) = policy["PolicyDocument"]["Statement"]
    own = imported(Exports.table_arn(spec.name))
    assert statement["Effect"] == "Allow"
    assert statement["Resource"] == [own, {"Fn::Sub": ["${Table}/index/*", {"Table": own}]}]
    assert "*" not in statement["Resource"]
    assert sorted(statement["Action"]) == sorted(TABLE_ACTIONS)
    assert all(
        action.startswith("dynamodb:") and "*" not in action for action in statement["Action"]
    )
    assert not {"dynamodb:Scan", "dynamodb:DeleteTable"} & set(statement["Action"])
    others = {Exports.table_arn(s.name) for s in STATEFUL} - {Exports.table_arn(spec.name)}
    assert not any(other in text for text in strings(policy) for other in others)


@pytest.mark.parametrize("spec", STATELESS, ids=[s.name for s in STATELESS])
def test_stateless_services_get_no_table(spec: ServiceSpec) -> None:
    """Even with dynamodb on, a stateless service has no table, variable or table policy."""
    template = DYNAMODB_TEMPLATES[service_stack(spec.name)]
    assert "Policies" not in task_role(template)
    assert not {"SHOPMESH_STORAGE", "SHOPMESH_DYNAMODB_TABLE"} & set(container_env(template))
    assert not any("Table" in text for text in strings(template))


@pytest.mark.parametrize("spec", STATEFUL, ids=[s.name for s in STATEFUL])
def test_sqlite_default_keeps_one_task_and_no_table(spec: ServiceSpec) -> None:
    """By default (SQLite on the task's disk) a stateful service runs one task, is told
    nothing about DynamoDB, and there is no storage stack."""
    template = SQLITE_TEMPLATES[service_stack(spec.name)]
    assert "storage" not in SQLITE_TEMPLATES
    assert [template["Parameters"][key]["Default"] for key in ("MinCount", "MaxCount")] == [1, 1]
    assert "SHOPMESH_STORAGE" not in container_env(template)
    assert "Policies" not in task_role(template)


SCALABLE = [spec for spec in STATEFUL if not spec.single_task]
SINGLE = [spec for spec in SPECS if spec.single_task]


@pytest.mark.parametrize("spec", SCALABLE, ids=[s.name for s in SCALABLE])
def test_stateful_services_scale_with_dynamodb(spec: ServiceSpec) -> None:
    """With a table instead of a local file, a stateful service scales like the others."""
    parameters = DYNAMODB_TEMPLATES[service_stack(spec.name)]["Parameters"]
    stateless = DYNAMODB_TEMPLATES[service_stack(STATELESS[0].name)]["Parameters"]
    for key in ("DesiredCount", "MinCount", "MaxCount"):
        assert parameters[key]["Default"] == stateless[key]["Default"]
    assert parameters["MaxCount"]["Default"] > 1


@pytest.mark.parametrize("spec", SINGLE, ids=[s.name for s in SINGLE])
def test_single_task_services_stay_one_task_with_dynamodb(spec: ServiceSpec) -> None:
    """A service that coordinates in its own memory (orders) runs one task on a table too."""
    parameters = DYNAMODB_TEMPLATES[service_stack(spec.name)]["Parameters"]
    assert [parameters[key]["Default"] for key in ("DesiredCount", "MinCount", "MaxCount")] == [
        1,
        1,
        1,
    ]


def test_manifest_keeps_orders_single_and_inventory_payments_scalable() -> None:
    """The split above is not vacuous: orders is single-task, two stateful services scale."""
    assert [spec.name for spec in SINGLE] == ["orders"]
    assert {spec.name for spec in SCALABLE} == {"inventory", "payments"}


def test_storage_stack_deploys_before_the_services_that_use_it() -> None:
    """Stateful service stacks list storage among the stacks they import from, after it."""
    order = deploy_order(DYNAMODB)
    keys = [stack.key for stack in order]
    for stack in order:
        if stack.key in {service_stack(spec.name) for spec in STATEFUL}:
            assert "storage" in stack.after
            assert keys.index("storage") < keys.index(stack.key)


def test_no_stateful_service_means_no_storage_stack() -> None:
    """A manifest without stateful services gets no storage stack; build_storage says why."""
    services = tuple(replace(spec, stateful=False) for spec in SPECS)
    config = replace(DYNAMODB, manifest=replace(DYNAMODB.manifest, services=services))
    assert "storage" not in [stack.key for stack in deploy_order(config)]
    with pytest.raises(CfnConfigError, match="no stateful service"):
        build_storage(config)


def test_unknown_storage_is_rejected_at_build_time() -> None:
    """A storage value other than sqlite or dynamodb fails by name."""
    with pytest.raises(CfnConfigError, match="storage must be one of"):
        build_network(replace(SQLITE, storage="postgres"))  # type: ignore[arg-type]


def test_synth_storage_switch_writes_the_storage_stack(tmp_path: Path) -> None:
    """``synth --storage dynamodb`` also writes storage.json and storage.yaml."""
    assert main(["synth", "--out", str(tmp_path), "--storage", "dynamodb"]) == 0
    storage = json.loads((tmp_path / "storage.json").read_text(encoding="utf-8"))
    assert storage["Outputs"].keys() >= {Exports.table_name(spec.name) for spec in STATEFUL}
    assert (tmp_path / "storage.yaml").exists()
