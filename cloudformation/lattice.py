"""A service's VPC Lattice side: the Lattice service (IAM auth and its policy), the
HTTPS:443 listener, the gRPC target group and the service-network association.

Lattice terminates TLS with its own certificate and speaks HTTP/2 to the targets; ECS
registers the task IPs (``Type: IP``) through ``VpcLatticeConfigurations``. Health
checks cannot speak gRPC, so they GET ``/healthz`` over HTTP on the health port.
"""

from __future__ import annotations

from troposphere import AWSHelperFn, GetAtt, Template, vpclattice

from cloudformation.config import StackConfig
from cloudformation.names import Exports, imported, scoped
from cloudformation.policies import service_auth_policy
from meshkit.manifest import ServiceSpec

LISTENER_PORT = 443
TARGET_HEALTH = {"interval": 10, "timeout": 5, "healthy": 2, "unhealthy": 2}


def add_lattice(
    template: Template, spec: ServiceSpec, config: StackConfig, principals: AWSHelperFn
) -> tuple[vpclattice.Service, vpclattice.TargetGroup, vpclattice.Listener]:
    """Adds the Lattice service of ``spec`` (``principals`` may call it) and returns it,
    its target group and listener."""
    service = template.add_resource(
        vpclattice.Service(
            "LatticeService",
            Name=scoped(spec.name),
            AuthType="AWS_IAM",
            IdleTimeoutSeconds=config.idle_timeout_s,
        )
    )
    template.add_resource(
        vpclattice.AuthPolicy(
            "LatticeServiceAuthPolicy",
            ResourceIdentifier=GetAtt(service, "Id"),
            Policy=service_auth_policy(
                service,
                principals,
                spec.proto_services,
                config.lattice_allow_reflection,
            ),
        )
    )
    target_group = template.add_resource(
        vpclattice.TargetGroup(
            "LatticeTargetGroup",
            # The port is create-only: a new port replaces the target group, which needs
            # a new name, so the name carries the port.
            Name=scoped(f"{spec.name}-{spec.grpc_port}"),
            Type="IP",  # Fargate: every task has its own ENI
            Config=vpclattice.TargetGroupConfig(
                Port=spec.grpc_port,
                Protocol="HTTP",  # the servers speak h2c; Lattice holds the TLS
                ProtocolVersion="GRPC",
                IpAddressType="IPV4",
                VpcIdentifier=imported(Exports.VPC_ID),
                HealthCheck=vpclattice.HealthCheckConfig(
                    Enabled=True,
                    Protocol="HTTP",
                    ProtocolVersion="HTTP1",
                    Port=spec.health_port,
                    Path=config.health_path,
                    Matcher=vpclattice.Matcher(HttpCode="200"),
                    HealthCheckIntervalSeconds=TARGET_HEALTH["interval"],
                    HealthCheckTimeoutSeconds=TARGET_HEALTH["timeout"],
                    HealthyThresholdCount=TARGET_HEALTH["healthy"],
                    UnhealthyThresholdCount=TARGET_HEALTH["unhealthy"],
                ),
            ),
        )
    )
    listener = template.add_resource(
        vpclattice.Listener(
            "LatticeListener",
            Name="grpc-https",
            ServiceIdentifier=GetAtt(service, "Id"),
            Protocol="HTTPS",
            Port=LISTENER_PORT,
            DefaultAction=vpclattice.DefaultAction(
                Forward=vpclattice.Forward(
                    TargetGroups=[
                        vpclattice.WeightedTargetGroup(
                            TargetGroupIdentifier=GetAtt(target_group, "Id"), Weight=100
                        )
                    ]
                )
            ),
        )
    )
    template.add_resource(
        vpclattice.ServiceNetworkServiceAssociation(
            "ServiceNetworkAssociation",
            ServiceIdentifier=GetAtt(service, "Id"),
            ServiceNetworkIdentifier=imported(Exports.SERVICE_NETWORK_ID),
        )
    )
    return service, target_group, listener
