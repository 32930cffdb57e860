"""One stack per manifest service: its task, its security group, its ECS service on
Service Connect and VPC Lattice, and target-tracking autoscaling.

Services that call others import their dependencies' Service Connect names, so
CloudFormation itself refuses to create a caller's stack before its dependencies' (a
Service Connect client only sees servers that existed when its task started) or to
delete a dependency while a caller still runs. ``deploy_order`` lists the stacks so.
Nothing exported here can change when the manifest does (a name, a DNS name): an export
another stack imports cannot be updated, so ports and principals travel as template
values and parameters instead (docs/AWS.md, "Updates").
"""

from __future__ import annotations

from troposphere import GetAtt, Output, Ref, Template, ec2, ecs

from cloudformation.config import StackConfig, validate
from cloudformation.fargate import (
    SCALING_DEFAULTS,
    SINGLE_TASK,
    add_parameters,
    add_service,
    runs_single_task,
)
from cloudformation.lattice import add_lattice
from cloudformation.names import Exports, add_environment, export, imported
from cloudformation.policies import add_consumer_principals
from cloudformation.task import GRPC_PORT_NAME, LOG_GROUP, add_task, container_logs
from meshkit.manifest import ServiceSpec


def build_service(config: StackConfig, spec: ServiceSpec) -> Template:
    """Everything one manifest service needs on ECS Service Connect and VPC Lattice."""
    validate(config)
    if config.service(spec.name) != spec:
        raise ValueError(f"{spec.name}: the spec differs from the manifest's entry")
    template = Template(
        Description=f"{config.manifest.name}: service {spec.name} (ECS, Service Connect, Lattice)"
    )
    add_environment(template, config.manifest.name)
    # SQLite lives on the task's disk: one task. With a DynamoDB table, scale like the rest,
    # unless the service coordinates in its own memory (the manifest's single_task).
    single = runs_single_task(spec, config)
    add_parameters(template, spec.name, SINGLE_TASK if single else SCALING_DEFAULTS)
    principals = add_consumer_principals(template)
    task = add_task(template, spec, config)
    lattice_service, target_group, listener = add_lattice(template, spec, config, principals)
    group = _security_group(template, spec)
    add_service(
        template,
        config,
        spec.name,
        task,
        Ref(group),
        # Lattice registers targets only through a target group that has a listener.
        depends_on=listener,
        single=single,
        ServiceConnectConfiguration=_service_connect(spec, config),
        VpcLatticeConfigurations=[
            ecs.VpcLatticeConfiguration(
                PortName=GRPC_PORT_NAME,
                RoleArn=imported(Exports.INFRASTRUCTURE_ROLE_ARN),
                TargetGroupArn=GetAtt(target_group, "Arn"),
            )
        ],
    )
    _outputs(template, spec, lattice_service)
    return template


def service_connect_timeout(config: StackConfig) -> ecs.TimeoutConfiguration:
    """No per-request limit, for every service: each serves the streaming health Watch,
    which clients hold open through the proxy (client deadlines bound unary calls). The
    idle timeout spans several stream heartbeats and keepalive intervals (docs/AWS.md)."""
    return ecs.TimeoutConfiguration(
        IdleTimeoutSeconds=config.idle_timeout_s, PerRequestTimeoutSeconds=0
    )


def _service_connect(spec: ServiceSpec, config: StackConfig) -> ecs.ServiceConnectConfiguration:
    return ecs.ServiceConnectConfiguration(
        Enabled=True,
        Namespace=imported(Exports.NAMESPACE_ARN),
        Services=[
            ecs.ServiceConnectService(
                PortName=GRPC_PORT_NAME,
                DiscoveryName=spec.name,
                # The runtime's default dependency address is "<name>:<grpc_port>".
                ClientAliases=[
                    ecs.ServiceConnectClientAlias(DnsName=spec.name, Port=spec.grpc_port)
                ],
                Timeout=service_connect_timeout(config),
            )
        ],
        LogConfiguration=container_logs(LOG_GROUP, "service-connect"),
    )


def _security_group(template: Template, spec: ServiceSpec) -> ec2.SecurityGroup:
    """Service Connect traffic from mesh tasks on the gRPC port; Lattice (both prefix
    lists) on the gRPC port and on the health port its health checks probe."""
    rules = [
        ec2.SecurityGroupRule(
            IpProtocol="tcp",
            FromPort=spec.grpc_port,
            ToPort=spec.grpc_port,
            SourceSecurityGroupId=imported(Exports.TASK_SECURITY_GROUP),
            Description="gRPC from mesh tasks (Service Connect)",
        )
    ]
    for key, family in ((Exports.PREFIX_LIST_IPV4, "IPv4"), (Exports.PREFIX_LIST_IPV6, "IPv6")):
        for port, what in ((spec.grpc_port, "gRPC"), (spec.health_port, "health checks")):
            rules.append(
                ec2.SecurityGroupRule(
                    IpProtocol="tcp",
                    FromPort=port,
                    ToPort=port,
                    SourcePrefixListId=imported(key),
                    Description=f"{what} from VPC Lattice ({family})",
                )
            )
    return template.add_resource(
        ec2.SecurityGroup(
            "ServiceSecurityGroup",
            GroupDescription=f"Inbound to {spec.name} tasks",
            VpcId=imported(Exports.VPC_ID),
            SecurityGroupIngress=rules,
        )
    )


def _outputs(template: Template, spec: ServiceSpec, lattice_service: object) -> None:
    export(
        template,
        Exports.connect_name(spec.name),
        spec.name,
        f"Service Connect name of {spec.name} in the namespace (callers add the port)",
    )
    export(
        template,
        Exports.lattice_arn(spec.name),
        GetAtt(lattice_service, "Arn"),
        f"VPC Lattice service ARN of {spec.name} (what the operator role may invoke)",
    )
    export(
        template,
        Exports.lattice_dns(spec.name),
        GetAtt(lattice_service, "DnsEntry.DomainName"),
        f"VPC Lattice DNS name of {spec.name} (grpcurl over TLS on 443, SigV4-signed)",
    )
    template.add_output(
        Output("EcsServiceName", Value=GetAtt("Service", "Name"), Description="ECS service name")
    )
