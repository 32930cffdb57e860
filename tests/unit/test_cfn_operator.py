"""The operator stack: a task (never a service) of the operator image that may invoke the
mesh's Lattice services and take ECS Exec sessions, with the Session Manager endpoint in
the network when tasks have no NAT; off with --no-operator."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from cloudformation import StackConfig, deploy_order
from cloudformation.names import Exports
from cloudformation.operator import EXEC_ACTIONS, OPERATOR, SESSION_S

CONFIG = StackConfig()
STACKS: dict[str, dict[str, Any]] = {
    stack.key: json.loads(stack.build().to_json()) for stack in deploy_order(CONFIG)
}
OPERATOR_STACK = STACKS["operator"]


def resources(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r.get("Properties", {}) for r in template["Resources"].values() if r["Type"] == kind]


def test_operator_is_a_task_definition_that_stops_by_itself_and_no_service() -> None:
    """Nothing runs until someone starts it; a started task sleeps out one session with an
    init process for ECS Exec's agent, and logs to its own group."""
    assert not resources(OPERATOR_STACK, "AWS::ECS::Service")
    (task,) = resources(OPERATOR_STACK, "AWS::ECS::TaskDefinition")
    (container,) = task["ContainerDefinitions"]
    assert container["Name"] == OPERATOR
    assert container["Command"] == ["sleep", str(SESSION_S)]
    assert container["LinuxParameters"] == {"InitProcessEnabled": True}
    assert container["Image"]["Fn::Sub"][1]["Uri"]["Fn::ImportValue"]["Fn::Sub"].endswith(
        Exports.repository_uri(OPERATOR)
    )


def test_operator_role_may_invoke_exactly_the_mesh_services_and_open_exec_sessions() -> None:
    """The task role's Invoke covers each service's Lattice ARN (imported from its stack)
    and nothing else; ECS Exec needs the four Session Manager channel actions."""
    role = OPERATOR_STACK["Resources"]["TaskRole"]["Properties"]
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    (invoke,) = [s for s in statements if s["Action"] == "vpc-lattice-svcs:Invoke"]
    arns = [r["Fn::Sub"][1]["Arn"]["Fn::ImportValue"]["Fn::Sub"] for r in invoke["Resource"]]
    assert arns == [
        f"${{EnvironmentName}}-{Exports.lattice_arn(spec.name)}"
        for spec in CONFIG.manifest.services
    ]
    assert all(r["Fn::Sub"][0] == "${Arn}/*" for r in invoke["Resource"])
    (exec_statement,) = [s for s in statements if s["Action"] == list(EXEC_ACTIONS)]
    assert exec_statement["Resource"] == "*"


def test_operator_deploys_last_and_its_image_has_a_repository() -> None:
    """It imports every service's Lattice ARN, so it comes after all of them; the registry
    holds its image."""
    order = [stack.key for stack in deploy_order(CONFIG)]
    assert order[-1] == "operator"
    assert f"{Exports.repository_uri(OPERATOR)}" in STACKS["registry"]["Outputs"]


def test_session_manager_endpoint_exists_only_when_tasks_need_it() -> None:
    """With VPC endpoints (no internet), ECS Exec needs the ssmmessages endpoint; NAT
    reaches it anyway; without the operator stack nothing needs it."""

    def endpoints(config: StackConfig) -> set[str]:
        network = next(s for s in deploy_order(config) if s.key == "network").build()
        template = json.loads(network.to_json())
        return {
            props["ServiceName"]["Fn::Sub"].rpartition(".")[2]
            for props in resources(template, "AWS::EC2::VPCEndpoint")
            if props.get("VpcEndpointType") == "Interface"
        }

    assert "ssmmessages" in endpoints(CONFIG)
    assert "ssmmessages" not in endpoints(replace(CONFIG, operator=False))
    assert endpoints(replace(CONFIG, egress="nat")) == set()


def test_no_operator_means_no_stack_no_repository() -> None:
    """--no-operator drops the stack and its image repository."""
    config = replace(CONFIG, operator=False)
    stacks = {stack.key: stack for stack in deploy_order(config)}
    assert "operator" not in stacks
    registry = json.loads(stacks["registry"].build().to_json())
    assert Exports.repository_uri(OPERATOR) not in registry["Outputs"]
