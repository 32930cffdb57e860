"""Every platform fact of docs/AWS.md and of R-H55 and R-H56 (docs/RELIABILITY.md),
asserted on the generated templates for every manifest service."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from cloudformation import StackConfig, deploy_order
from cloudformation.names import Exports, service_stack
from meshkit.env import dependency_env_name
from meshkit.manifest import ServiceSpec
from meshkit.runtime.channels import KEEPALIVE_TIME_MS
from meshkit.runtime.config import DEFAULT_DRAIN_DELAY_S, DEFAULT_GRACE_S

CONFIG = StackConfig()
TEMPLATES: dict[str, dict[str, Any]] = {
    stack.key: json.loads(stack.build().to_json()) for stack in deploy_order(CONFIG)
}
SPECS = CONFIG.manifest.services
IDS = [spec.name for spec in SPECS]


def resources(key: str, kind: str) -> list[dict[str, Any]]:
    """The Properties of every resource of type ``kind`` in stack ``key``."""
    found = TEMPLATES[key]["Resources"].values()
    return [r.get("Properties", {}) for r in found if r["Type"] == kind]


def one(key: str, kind: str) -> dict[str, Any]:
    """The Properties of the single resource of type ``kind`` in stack ``key``."""
    (props,) = resources(key, kind)
    return props


def container(spec: ServiceSpec) -> dict[str, Any]:
    (definition,) = one(service_stack(spec.name), "AWS::ECS::TaskDefinition")[
        "ContainerDefinitions"
    ]
    return definition  # type: ignore[no-any-return]


def imports(node: Any) -> Iterator[Any]:
    """Every Fn::ImportValue argument anywhere below ``node``."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Fn::ImportValue":
                yield value
            yield from imports(value)
    elif isinstance(node, list):
        for item in node:
            yield from imports(item)


def statements(node: Any) -> Iterator[dict[str, Any]]:
    """Every IAM/auth policy statement anywhere below ``node``."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Statement":
                yield from value
            else:
                yield from statements(value)
    elif isinstance(node, list):
        for item in node:
            yield from statements(item)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_lattice_listener_is_https_443_forwarding_to_the_target_group(spec: ServiceSpec) -> None:
    """gRPC through Lattice needs an HTTPS listener; ours is on 443 and forwards to the TG."""
    listener = one(service_stack(spec.name), "AWS::VpcLattice::Listener")
    assert (listener["Protocol"], listener["Port"]) == ("HTTPS", 443)
    (forward,) = listener["DefaultAction"]["Forward"]["TargetGroups"]
    assert forward["TargetGroupIdentifier"] == {"Fn::GetAtt": ["LatticeTargetGroup", "Id"]}


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_target_group_is_ip_grpc_with_http_health_check_on_health_port(spec: ServiceSpec) -> None:
    """Type IP, ProtocolVersion GRPC on the gRPC port; HTTP GET /healthz on the health port."""
    group = one(service_stack(spec.name), "AWS::VpcLattice::TargetGroup")
    assert group["Type"] == "IP"
    config = group["Config"]
    assert (config["ProtocolVersion"], config["Port"]) == ("GRPC", spec.grpc_port)
    check = config["HealthCheck"]
    assert check["Protocol"] in {"HTTP", "HTTPS"}
    assert check["ProtocolVersion"] in {"HTTP1", "HTTP2"}
    assert (check["Port"], check["Path"], check["Enabled"]) == (spec.health_port, "/healthz", True)
    assert check["Matcher"] == {"HttpCode": "200"}


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_grpc_port_mapping_is_named_with_app_protocol_grpc(spec: ServiceSpec) -> None:
    """The gRPC port mapping is named and says appProtocol grpc; the health port is mapped."""
    mappings = {m["ContainerPort"]: m for m in container(spec)["PortMappings"]}
    assert mappings[spec.grpc_port]["AppProtocol"] == "grpc"
    assert mappings[spec.grpc_port]["Name"] == "grpc"
    assert mappings[spec.health_port]["Name"] == "health"


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_container_health_check_gets_healthz_and_runs_as_non_root(spec: ServiceSpec) -> None:
    """The container HealthCheck probes /healthz on the health port; the user is not root."""
    definition = container(spec)
    command = " ".join(definition["HealthCheck"]["Command"])
    assert f"http://127.0.0.1:{spec.health_port}/healthz" in command
    user = definition["User"]
    assert user.split(":")[0] not in {"", "0", "root"}


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_stop_timeout_covers_drain_delay_and_grace(spec: ServiceSpec) -> None:
    """StopTimeout >= drain delay + grace, and the container is told those same values."""
    definition = container(spec)
    env = {e["Name"]: e["Value"] for e in definition["Environment"]}
    drain, grace = float(env["SHOPMESH_DRAIN_DELAY_S"]), float(env["SHOPMESH_GRACE_S"])
    assert (drain, grace) == (DEFAULT_DRAIN_DELAY_S, DEFAULT_GRACE_S)
    assert drain + grace <= definition["StopTimeout"] <= 120


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_service_connect_alias_and_no_per_request_timeout(spec: ServiceSpec) -> None:
    """Alias = name:grpc_port; no per-request timeout for any service, since every one
    serves the health Watch stream that clients hold open through the proxy."""
    service = one(service_stack(spec.name), "AWS::ECS::Service")
    connect = service["ServiceConnectConfiguration"]
    assert connect["Enabled"] is True
    (entry,) = connect["Services"]
    assert entry["PortName"] == "grpc"
    assert entry["ClientAliases"] == [{"DnsName": spec.name, "Port": spec.grpc_port}]
    assert entry["Timeout"]["PerRequestTimeoutSeconds"] == 0


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_every_proxy_idle_timeout_spans_three_heartbeats_and_a_keepalive(
    spec: ServiceSpec,
) -> None:
    """The timing rule (docs/AWS.md): Service Connect's and Lattice's idle timeouts are at
    least three of the stream heartbeats the task is told to send, and above keepalive."""
    env = {e["Name"]: e["Value"] for e in container(spec)["Environment"]}
    heartbeat = float(env["SHOPMESH_STREAM_HEARTBEAT_S"])
    (entry,) = one(service_stack(spec.name), "AWS::ECS::Service")["ServiceConnectConfiguration"][
        "Services"
    ]
    lattice = one(service_stack(spec.name), "AWS::VpcLattice::Service")
    for idle in (entry["Timeout"]["IdleTimeoutSeconds"], lattice["IdleTimeoutSeconds"]):
        assert idle >= 3 * heartbeat
        assert idle > KEEPALIVE_TIME_MS / 1000


def test_the_balancer_idle_timeout_spans_three_heartbeats_too() -> None:
    """The gateway's NDJSON streams (WatchOrders) cross the load balancer: the rule holds
    there as well."""
    attributes = {
        a["Key"]: a["Value"]
        for a in one("edge", "AWS::ElasticLoadBalancingV2::LoadBalancer")["LoadBalancerAttributes"]
        if isinstance(a, dict) and "Key" in a
    }
    heartbeat = float(
        {e["Name"]: e["Value"] for e in container(SPECS[0])["Environment"]}[
            "SHOPMESH_STREAM_HEARTBEAT_S"
        ]
    )
    assert int(attributes["idle_timeout.timeout_seconds"]) >= 3 * heartbeat


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_ecs_registers_lattice_targets_with_the_infrastructure_role(spec: ServiceSpec) -> None:
    """VpcLatticeConfigurations: the grpc port, this target group, the ECS infrastructure role."""
    (config,) = one(service_stack(spec.name), "AWS::ECS::Service")["VpcLatticeConfigurations"]
    assert config["PortName"] == "grpc"
    assert config["TargetGroupArn"] == {"Fn::GetAtt": ["LatticeTargetGroup", "Arn"]}
    assert list(imports(config["RoleArn"])) == [
        {"Fn::Sub": f"${{EnvironmentName}}-{Exports.INFRASTRUCTURE_ROLE_ARN}"}
    ]


def test_infrastructure_role_is_trusted_by_ecs_with_the_lattice_policy() -> None:
    """The role ECS uses for Lattice trusts ecs.amazonaws.com and has the managed policy."""
    role = TEMPLATES["mesh"]["Resources"]["EcsInfrastructureRole"]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "ecs.amazonaws.com"}
    (policy,) = role["ManagedPolicyArns"]
    assert policy["Fn::Sub"].endswith(":policy/AmazonECSInfrastructureRolePolicyForVpcLattice")


@pytest.mark.parametrize("key", ["mesh", *(service_stack(n) for n in IDS)])
def test_lattice_uses_iam_auth_with_a_policy(key: str) -> None:
    """R-H55: the network and every service use AWS_IAM, each with an AuthPolicy on it."""
    kind = "ServiceNetwork" if key == "mesh" else "Service"
    (logical,) = [
        name
        for name, r in TEMPLATES[key]["Resources"].items()
        if r["Type"] == f"AWS::VpcLattice::{kind}"
    ]
    assert TEMPLATES[key]["Resources"][logical]["Properties"]["AuthType"] == "AWS_IAM"
    (policy,) = resources(key, "AWS::VpcLattice::AuthPolicy")
    assert policy["ResourceIdentifier"] == {"Fn::GetAtt": [logical, "Id"]}
    assert list(statements(policy["Policy"]))


@pytest.mark.parametrize("key", list(TEMPLATES))
def test_no_unconditioned_wildcard_principal(key: str) -> None:
    """R-H55: no Allow statement in any policy has Principal "*" without a Condition."""
    for statement in statements(TEMPLATES[key]):
        principal = statement.get("Principal")
        wildcard = principal == "*" or (isinstance(principal, dict) and "*" in principal.values())
        assert not (wildcard and "Condition" not in statement), statement


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_service_auth_policy_admits_only_its_grpc_methods(spec: ServiceSpec) -> None:
    """Least privilege: POST to this service's own /package.Service/* paths only."""
    policy = one(service_stack(spec.name), "AWS::VpcLattice::AuthPolicy")["Policy"]
    (statement,) = statements(policy)
    condition = statement["Condition"]
    assert condition["StringEquals"] == {"vpc-lattice-svcs:RequestMethod": "POST"}
    paths = condition["StringLike"]["vpc-lattice-svcs:RequestPath"]
    assert paths == [f"/{name}/*" for name in spec.proto_services]


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_lattice_prefix_lists_reach_both_ports(spec: ServiceSpec) -> None:
    """Ingress from the Lattice prefix lists (IPv4 and IPv6) on the gRPC and health ports."""
    group = one(service_stack(spec.name), "AWS::EC2::SecurityGroup")
    admitted = {
        (rule["FromPort"], rule["ToPort"], rule["SourcePrefixListId"]["Fn::ImportValue"]["Fn::Sub"])
        for rule in group["SecurityGroupIngress"]
        if "SourcePrefixListId" in rule
    }
    expected = {
        (port, port, f"${{EnvironmentName}}-{key}")
        for port in (spec.grpc_port, spec.health_port)
        for key in (Exports.PREFIX_LIST_IPV4, Exports.PREFIX_LIST_IPV6)
    }
    assert admitted == expected


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_service_imports_match_the_call_graph(spec: ServiceSpec) -> None:
    """A service stack imports exactly its dependencies' Service Connect names, and its
    address variables join each name with the port from the manifest."""
    key = service_stack(spec.name)
    name_imports = {
        value["Fn::Sub"].removeprefix("${EnvironmentName}-")
        for value in imports(TEMPLATES[key])
        if value["Fn::Sub"].endswith("ServiceConnectName")
    }
    assert name_imports == {Exports.connect_name(dep) for dep in spec.depends_on}
    env = {e["Name"]: e["Value"] for e in container(spec)["Environment"]}
    for dep in spec.depends_on:
        exported = TEMPLATES[service_stack(dep)]["Outputs"][Exports.connect_name(dep)]
        assert exported["Value"] == dep
        imported = {
            "Fn::ImportValue": {"Fn::Sub": f"${{EnvironmentName}}-{Exports.connect_name(dep)}"}
        }
        port = str(CONFIG.manifest.service(dep).grpc_port)
        assert env[dependency_env_name(dep)] == {"Fn::Join": [":", [imported, port]]}


def test_deploy_order_puts_every_stack_after_what_it_imports() -> None:
    """Each stack deploys after every stack it imports from, and orders after its deps."""
    order = [stack.key for stack in deploy_order(CONFIG)]
    producers = {
        output["Export"]["Name"]["Fn::Sub"]: key
        for key, template in TEMPLATES.items()
        for output in template.get("Outputs", {}).values()
        if "Export" in output
    }
    for key, template in TEMPLATES.items():
        for value in imports(template):
            assert order.index(producers[value["Fn::Sub"]]) < order.index(key), (key, value)
    orders = CONFIG.manifest.service("orders")
    assert all(order.index(service_stack(d)) < order.index("svc-orders") for d in orders.depends_on)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_rollout_has_circuit_breaker_and_target_tracking(spec: ServiceSpec) -> None:
    """Failed deployments roll back; CPU target tracking scales the service."""
    key = service_stack(spec.name)
    deployment = one(key, "AWS::ECS::Service")["DeploymentConfiguration"]
    assert deployment["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
    policy = one(key, "AWS::ApplicationAutoScaling::ScalingPolicy")
    assert policy["PolicyType"] == "TargetTrackingScaling"
    assert one(key, "AWS::ApplicationAutoScaling::ScalableTarget")["ScalableDimension"] == (
        "ecs:service:DesiredCount"
    )


def test_mesh_has_insights_namespace_vpc_association_and_access_logs() -> None:
    """Container Insights on Fargate, an HTTP namespace, a VPC association with a security
    group, and access logs of the service network to a log group."""
    cluster = one("mesh", "AWS::ECS::Cluster")
    assert {"Name": "containerInsights", "Value": "enabled"} in cluster["ClusterSettings"]
    assert "FARGATE" in cluster["CapacityProviders"]
    assert resources("mesh", "AWS::ServiceDiscovery::HttpNamespace")
    association = one("mesh", "AWS::VpcLattice::ServiceNetworkVpcAssociation")
    assert association["SecurityGroupIds"]
    subscription = one("mesh", "AWS::VpcLattice::AccessLogSubscription")
    assert subscription["DestinationArn"] == {"Fn::GetAtt": ["LatticeAccessLogGroup", "Arn"]}


def test_registry_has_one_scanned_immutable_repository_per_image() -> None:
    """One repository per service plus the gateway and the operator, immutable tags, scan
    on push, lifecycle."""
    repos = resources("registry", "AWS::ECR::Repository")
    names = {r["RepositoryName"]["Fn::Sub"].split("/")[1] for r in repos}
    assert names == {*IDS, "gateway", "operator"}
    for repo in repos:
        assert repo["ImageTagMutability"] == "IMMUTABLE"
        assert repo["ImageScanningConfiguration"] == {"ScanOnPush": True}
        assert json.loads(repo["LifecyclePolicy"]["LifecyclePolicyText"])["rules"]
