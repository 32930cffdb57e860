"""The edge stack: the REST/JSON gateway on Fargate behind a public load balancer.

The gateway is a Service Connect *client only*: it joins the namespace to resolve the
services' aliases and publishes nothing. Its upstream addresses are the endpoints the
service stacks export, so CloudFormation creates this stack only after theirs (a
Service Connect client sees only servers that existed when its task started). Its tasks
sit in the private subnets and admit traffic from the load balancer alone.
"""

from __future__ import annotations

from troposphere import GetAtt, Output, Ref, Template, ec2, ecs, logs

from cloudformation.alb import LoadBalancer, add_load_balancer, gateway_url
from cloudformation.config import CfnConfigError, StackConfig, validate
from cloudformation.fargate import (
    SCALING_DEFAULTS,
    add_parameters,
    add_service,
)
from cloudformation.names import Exports, add_environment, imported
from cloudformation.task import (
    LOG_GROUP,
    add_task_definition,
    app_container,
    connect_address,
    container_logs,
    http_probe,
)
from meshkit.env import dependency_env_name
from meshkit.manifest import GatewaySpec
from meshkit.probes import LIVENESS_PATH

HTTP_PORT_NAME = "http"
KEEP_ALIVE_MARGIN_S = 5
"""The gateway keeps idle connections this much longer than the balancer, so the
balancer closes them first and never sends a request on a connection being closed."""


def build_edge(config: StackConfig) -> Template:
    """The gateway's load balancer, task, ECS service (Service Connect client) and scaling."""
    validate(config)
    gateway = config.manifest.gateway
    if gateway is None:
        raise CfnConfigError("the manifest has no [gateway]: there is no edge to build")
    template = Template(
        Description=f"{config.manifest.name}: REST gateway behind a public load balancer"
    )
    add_environment(template, config.manifest.name)
    add_parameters(template, gateway.name, SCALING_DEFAULTS)
    balancer = add_load_balancer(template, config, gateway)
    group = template.add_resource(_task_security_group(gateway, balancer))
    task = add_task_definition(
        template,
        gateway.name,
        config,
        lambda log_group: _container(gateway, config, log_group),
    )
    add_service(
        template,
        config,
        gateway.name,
        task,
        Ref(group),
        depends_on=balancer.listeners_ready,
        LoadBalancers=[
            ecs.LoadBalancer(
                ContainerName=gateway.name,
                ContainerPort=gateway.http_port,
                TargetGroupArn=Ref(balancer.target_group),
            )
        ],
        ServiceConnectConfiguration=ecs.ServiceConnectConfiguration(
            Enabled=True,
            Namespace=imported(Exports.NAMESPACE_ARN),
            LogConfiguration=container_logs(LOG_GROUP, "service-connect"),
        ),
    )
    _outputs(template, balancer)
    return template


def environment(gateway: GatewaySpec, config: StackConfig) -> dict[str, object]:
    """The gateway's port and drain timings (so StopTimeout is known to cover them), an
    idle keep-alive above the balancer's, the balancer's nodes (anywhere in the VPC) as
    trusted X-Forwarded-For sources, admin routes when asked for (their API keys come as
    a secret), and each upstream's Service Connect address."""
    values: dict[str, object] = {
        "GATEWAY_PORT": str(gateway.http_port),
        "GATEWAY_DRAIN_GRACE_S": f"{config.gateway_drain_s:g}",
        "GATEWAY_SHUTDOWN_GRACE_S": f"{config.gateway_grace_s:g}",
        "GATEWAY_KEEP_ALIVE_S": str(config.alb_idle_timeout_s + KEEP_ALIVE_MARGIN_S),
        "GATEWAY_FORWARDED_ALLOW_IPS": imported(Exports.VPC_CIDR),
        # Off by default: the contract's admin RPCs are not routed at all.
        **({"GATEWAY_ADMIN_ROUTES": "1"} if config.edge_admin else {}),
    }
    for name in gateway.upstreams:
        values[dependency_env_name(name)] = connect_address(name, config)
    return values


def _container(
    gateway: GatewaySpec, config: StackConfig, log_group: logs.LogGroup
) -> ecs.ContainerDefinition:
    return app_container(
        gateway.name,
        config,
        log_group,
        port_mappings=[
            ecs.PortMapping(
                Name=HTTP_PORT_NAME,
                ContainerPort=gateway.http_port,
                Protocol="tcp",
                AppProtocol="http",
            )
        ],
        environment=environment(gateway, config),
        health=http_probe(gateway.http_port, LIVENESS_PATH, python=bool(gateway.module)),
    )


def _task_security_group(gateway: GatewaySpec, balancer: LoadBalancer) -> ec2.SecurityGroup:
    """The API port from the load balancer; nothing else reaches a gateway task."""
    return ec2.SecurityGroup(
        "GatewaySecurityGroup",
        GroupDescription="Inbound to the gateway tasks: the edge load balancer only",
        VpcId=imported(Exports.VPC_ID),
        SecurityGroupIngress=[
            ec2.SecurityGroupRule(
                IpProtocol="tcp",
                FromPort=gateway.http_port,
                ToPort=gateway.http_port,
                SourceSecurityGroupId=Ref(balancer.security_group),
                Description="HTTP and health checks from the load balancer",
            )
        ],
    )


def _outputs(template: Template, balancer: LoadBalancer) -> None:
    for key, value, text in (
        ("GatewayUrl", gateway_url(), "Public URL of the REST gateway"),
        (
            "LoadBalancerDnsName",
            GetAtt(balancer.balancer, "DNSName"),
            "DNS name of the edge load balancer (target of a CNAME or alias record)",
        ),
        (
            "LoadBalancerHostedZoneId",
            GetAtt(balancer.balancer, "CanonicalHostedZoneID"),
            "Hosted zone of the load balancer (for a Route 53 alias record)",
        ),
        ("EcsServiceName", GetAtt("Service", "Name"), "ECS service name of the gateway"),
    ):
        template.add_output(Output(key, Value=value, Description=text))
