"""The edge stack: the gateway on Fargate behind a public load balancer, HTTPS when a
certificate is given, reachable only through the balancer, a Service Connect client."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from cloudformation import CfnConfigError, StackConfig, build_edge, deploy_order
from cloudformation.alb import HAS_CERTIFICATE
from cloudformation.deploy.__main__ import _parser, stack_config
from cloudformation.names import Exports
from meshkit.env import dependency_env_name
from meshkit.manifest import GatewaySpec

CONFIG = StackConfig()


def _gateway() -> GatewaySpec:
    gateway = CONFIG.manifest.gateway
    assert gateway is not None, "the shop's manifest has a [gateway]"
    return gateway


GATEWAY = _gateway()
EDGE: dict[str, Any] = json.loads(build_edge(CONFIG).to_json())
MESH_STACKS: dict[str, dict[str, Any]] = {
    stack.key: json.loads(stack.build().to_json()) for stack in deploy_order(CONFIG)
}


def resolve(node: Any, has_certificate: bool) -> Any:
    """``node`` as CloudFormation deploys it with or without a certificate: resources
    whose condition is false dropped, ``Fn::If`` on the certificate condition decided."""
    if isinstance(node, list):
        return [resolve(item, has_certificate) for item in node]
    if not isinstance(node, dict):
        return node
    if list(node) == ["Fn::If"] and node["Fn::If"][0] == HAS_CERTIFICATE:
        return resolve(node["Fn::If"][1 if has_certificate else 2], has_certificate)
    return {
        key: resolve(value, has_certificate)
        for key, value in node.items()
        if not (isinstance(value, dict) and value.get("Condition") == HAS_CERTIFICATE)
        or has_certificate
    }


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    """Logical id → Properties of every resource of type ``kind``."""
    return {
        name: r.get("Properties", {})
        for name, r in template["Resources"].items()
        if r["Type"] == kind
    }


def listeners(has_certificate: bool) -> dict[int, dict[str, Any]]:
    deployed = resolve(EDGE, has_certificate)
    found = of_type(deployed, "AWS::ElasticLoadBalancingV2::Listener").values()
    return {listener["Port"]: listener for listener in found}


def gateway_container() -> dict[str, Any]:
    (definition,) = EDGE["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"]
    return definition  # type: ignore[no-any-return]


def env() -> dict[str, Any]:
    return {e["Name"]: e["Value"] for e in gateway_container()["Environment"]}


FORWARD = {"Type": "forward", "TargetGroupArn": {"Ref": "TargetGroup"}}


def test_certificate_switches_on_https_and_the_port_80_redirect() -> None:
    """With a certificate: HTTPS on 443 with it forwards to the gateway; 80 redirects there."""
    assert EDGE["Conditions"][HAS_CERTIFICATE] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "CertificateArn"}, ""]}]
    }
    by_port = listeners(has_certificate=True)
    assert sorted(by_port) == [80, 443]
    https = by_port[443]
    assert https["Protocol"] == "HTTPS"
    assert https["Certificates"] == [{"CertificateArn": {"Ref": "CertificateArn"}}]
    assert https["SslPolicy"].startswith("ELBSecurityPolicy-TLS13")
    assert https["DefaultActions"] == [FORWARD]
    (redirect,) = by_port[80]["DefaultActions"]
    assert redirect["Type"] == "redirect"
    assert redirect["RedirectConfig"] == {
        "Protocol": "HTTPS",
        "Port": "443",
        "StatusCode": "HTTP_301",
    }


def test_without_certificate_port_80_serves_plain_http() -> None:
    """No certificate (the default): no HTTPS listener; port 80 forwards to the gateway."""
    assert EDGE["Parameters"]["CertificateArn"]["Default"] == ""
    by_port = listeners(has_certificate=False)
    assert list(by_port) == [80]
    assert (by_port[80]["Protocol"], by_port[80]["DefaultActions"]) == ("HTTP", [FORWARD])


@pytest.mark.parametrize("has_certificate", [True, False])
def test_gateway_service_waits_for_every_listener_that_exists(has_certificate: bool) -> None:
    """The ECS service starts only after the listener(s) that attach its target group."""
    deployed = resolve(EDGE, has_certificate)
    assert deployed["Resources"]["Service"]["DependsOn"] == ["ListenersReady"]
    refs = deployed["Resources"]["ListenersReady"]["Metadata"].values()
    expected = {"HttpListener", "HttpsListener"} if has_certificate else {"HttpListener"}
    assert {ref["Ref"] for ref in refs if ref} == expected


def test_balancer_is_public_and_open_only_on_80_and_443() -> None:
    """Internet-facing in the public subnets; ingress from anywhere on 80 and 443 only."""
    balancer = EDGE["Resources"]["LoadBalancer"]["Properties"]
    assert (balancer["Scheme"], balancer["Type"]) == ("internet-facing", "application")
    assert balancer["Subnets"]["Fn::Split"][1]["Fn::ImportValue"]["Fn::Sub"].endswith(
        Exports.PUBLIC_SUBNETS
    )
    group = EDGE["Resources"]["LoadBalancerSecurityGroup"]["Properties"]
    assert {
        (rule["FromPort"], rule["ToPort"], rule["CidrIp"]) for rule in group["SecurityGroupIngress"]
    } == {(80, 80, "0.0.0.0/0"), (443, 443, "0.0.0.0/0")}
    (egress,) = group["SecurityGroupEgress"]
    assert (egress["FromPort"], egress["ToPort"]) == (GATEWAY.http_port, GATEWAY.http_port)


def test_gateway_tasks_are_reachable_only_from_the_balancer() -> None:
    """Private subnets, no public IP; the task groups admit the balancer's group alone,
    on the gateway's port (the shared mesh task group admits nothing at all)."""
    network = EDGE["Resources"]["Service"]["Properties"]["NetworkConfiguration"]
    awsvpc = network["AwsvpcConfiguration"]
    assert awsvpc["AssignPublicIp"] == "DISABLED"
    assert awsvpc["Subnets"]["Fn::Split"][1]["Fn::ImportValue"]["Fn::Sub"].endswith(
        Exports.PRIVATE_SUBNETS
    )
    own, shared = awsvpc["SecurityGroups"]
    assert own == {"Ref": "GatewaySecurityGroup"}
    assert shared["Fn::ImportValue"]["Fn::Sub"].endswith(Exports.TASK_SECURITY_GROUP)
    (rule,) = EDGE["Resources"]["GatewaySecurityGroup"]["Properties"]["SecurityGroupIngress"]
    assert rule["SourceSecurityGroupId"] == {"Ref": "LoadBalancerSecurityGroup"}
    assert (rule["FromPort"], rule["ToPort"]) == (GATEWAY.http_port, GATEWAY.http_port)
    mesh = MESH_STACKS["mesh"]
    assert "SecurityGroupIngress" not in mesh["Resources"]["MeshTaskSecurityGroup"]["Properties"]
    for stack in MESH_STACKS.values():
        assert not of_type(stack, "AWS::EC2::SecurityGroupIngress")


def test_target_group_is_ip_on_the_gateway_port_with_healthz() -> None:
    """Targets are task IPs on the API port, checked with GET /healthz there."""
    group = EDGE["Resources"]["TargetGroup"]["Properties"]
    assert (group["TargetType"], group["Protocol"], group["Port"]) == ("ip", "HTTP", 8080)
    assert (group["HealthCheckPath"], group["HealthCheckPort"]) == ("/healthz", "traffic-port")
    assert group["Matcher"] == {"HttpCode": "200"}
    (balanced,) = EDGE["Resources"]["Service"]["Properties"]["LoadBalancers"]
    assert balanced == {
        "ContainerName": "gateway",
        "ContainerPort": GATEWAY.http_port,
        "TargetGroupArn": {"Ref": "TargetGroup"},
    }


def test_gateway_is_a_service_connect_client_with_no_services() -> None:
    """Service Connect on, in the mesh's namespace, publishing no service of its own."""
    connect = EDGE["Resources"]["Service"]["Properties"]["ServiceConnectConfiguration"]
    assert connect["Enabled"] is True
    assert connect["Namespace"]["Fn::ImportValue"]["Fn::Sub"].endswith(Exports.NAMESPACE_ARN)
    assert "Services" not in connect


def test_upstream_addresses_are_the_service_stacks_exported_names_and_manifest_ports() -> None:
    """SHOPMESH_<NAME>_ADDR of every upstream joins the Service Connect name its stack
    exports with the port from the manifest (a port is never imported)."""
    variables = env()
    for name in GATEWAY.upstreams:
        key = Exports.connect_name(name)
        port = str(CONFIG.manifest.service(name).grpc_port)
        imported = {"Fn::ImportValue": {"Fn::Sub": f"${{EnvironmentName}}-{key}"}}
        assert variables[dependency_env_name(name)] == {"Fn::Join": [":", [imported, port]]}
        assert MESH_STACKS[f"svc-{name}"]["Outputs"][key]["Value"] == name


def test_gateway_container_runs_non_root_with_health_check_and_drain_room() -> None:
    """Image from the gateway repository, non-root user, /healthz container check on the
    API port, logs to its group, StopTimeout >= the drain + grace it is told."""
    definition = gateway_container()
    assert definition["Image"]["Fn::Sub"][1]["Uri"]["Fn::ImportValue"]["Fn::Sub"].endswith(
        Exports.repository_uri("gateway")
    )
    assert definition["User"].split(":")[0] not in {"", "0", "root"}
    assert "http://127.0.0.1:8080/healthz" in " ".join(definition["HealthCheck"]["Command"])
    assert definition["LogConfiguration"]["Options"]["awslogs-group"] == {"Ref": "LogGroup"}
    variables = env()
    assert variables["GATEWAY_PORT"] == str(GATEWAY.http_port)
    drain = float(variables["GATEWAY_DRAIN_GRACE_S"]) + float(variables["GATEWAY_SHUTDOWN_GRACE_S"])
    assert drain <= definition["StopTimeout"] <= 120


def test_gateway_keeps_idle_connections_longer_than_the_balancer() -> None:
    """The balancer, not the gateway, closes idle pooled connections."""
    attributes = EDGE["Resources"]["LoadBalancer"]["Properties"]["LoadBalancerAttributes"]
    idle = int(next(a["Value"] for a in attributes if a["Key"] == "idle_timeout.timeout_seconds"))
    assert int(env()["GATEWAY_KEEP_ALIVE_S"]) > idle


def test_gateway_rolls_back_failed_deployments_and_autoscales() -> None:
    """Circuit breaker with rollback; CPU target tracking from 2 tasks."""
    service = EDGE["Resources"]["Service"]["Properties"]
    breaker = service["DeploymentConfiguration"]["DeploymentCircuitBreaker"]
    assert breaker == {"Enable": True, "Rollback": True}
    assert of_type(EDGE, "AWS::ApplicationAutoScaling::ScalingPolicy")
    assert EDGE["Parameters"]["MinCount"]["Default"] == 2


@pytest.mark.parametrize(("has_certificate", "scheme"), [(True, "https"), (False, "http")])
def test_gateway_url_output_follows_the_certificate(has_certificate: bool, scheme: str) -> None:
    """The GatewayUrl output is https:// with a certificate, http:// without."""
    url = resolve(EDGE, has_certificate)["Outputs"]["GatewayUrl"]["Value"]
    assert url == {"Fn::Sub": f"{scheme}://${{LoadBalancer.DNSName}}"}


def test_edge_deploys_last_after_every_upstream_stack() -> None:
    """The edge stack comes after the service stacks it imports from (only the operator's
    tooling stack follows it)."""
    stacks = [stack for stack in deploy_order(CONFIG) if stack.key != "operator"]
    assert stacks[-1].key == "edge"
    assert {f"svc-{name}" for name in GATEWAY.upstreams} <= set(stacks[-1].after)


def test_manifest_without_gateway_has_no_edge() -> None:
    """No [gateway]: no edge stack in the order, and build_edge says why."""
    config = replace(CONFIG, manifest=replace(CONFIG.manifest, gateway=None))
    assert "edge" not in [stack.key for stack in deploy_order(config)]
    with pytest.raises(CfnConfigError, match="no \\[gateway\\]"):
        build_edge(config)


def test_admin_routes_are_off_unless_asked_for_and_then_need_keys_from_a_secret() -> None:
    """By default the gateway is told nothing of admin routes (they are not routed); with
    --admin-api-keys it routes them and reads GATEWAY_API_KEYS from that SSM parameter as
    an ECS secret; asking for them without keys is refused by name."""
    assert "GATEWAY_ADMIN_ROUTES" not in env()
    args = _parser().parse_args(["deploy", "--admin-api-keys", "/shopmesh/edge/admin-keys"])
    admin = json.loads(build_edge(stack_config(args)).to_json())
    (container,) = [
        r["Properties"]["ContainerDefinitions"][0]
        for r in admin["Resources"].values()
        if r["Type"] == "AWS::ECS::TaskDefinition"
    ]
    variables = {e["Name"]: e["Value"] for e in container["Environment"]}
    assert variables["GATEWAY_ADMIN_ROUTES"] == "1"
    (secret,) = container["Secrets"]
    assert secret["Name"] == "GATEWAY_API_KEYS"
    assert "/shopmesh/edge/admin-keys" in json.dumps(secret["ValueFrom"])
    with pytest.raises(CfnConfigError, match="gateway has no GATEWAY_API_KEYS secret"):
        build_edge(replace(CONFIG, edge_admin=True))
