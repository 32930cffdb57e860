"""The edge's public Application Load Balancer: listeners, target group, security group.

With a certificate ARN the balancer serves HTTPS on 443 and its port-80 listener only
redirects there; without one (the ``NoCertificate`` case) port 80 forwards plain HTTP.
Targets are the gateway tasks' IPs (``ip``: Fargate tasks have their own ENI), checked
with ``GET /healthz`` on the API port, where the gateway serves it.
"""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import (
    Equals,
    If,
    Not,
    NoValue,
    Parameter,
    Ref,
    Sub,
    Template,
    cloudformation,
    ec2,
)
from troposphere import elasticloadbalancingv2 as elb

from cloudformation.config import StackConfig
from cloudformation.names import ENVIRONMENT, Exports, imported, imported_list, scoped
from meshkit.manifest import GatewaySpec
from meshkit.probes import LIVENESS_PATH

CERTIFICATE = "CertificateArn"
HAS_CERTIFICATE = "HasCertificate"
ACCESS_LOGS_BUCKET = "AccessLogsBucket"
HAS_ACCESS_LOGS = "HasAccessLogs"
HTTP_PORT = 80
HTTPS_PORT = 443
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
"""TLS 1.3 and 1.2 with forward-secret ciphers only."""
TARGET_HEALTH = {"interval": 10, "timeout": 5, "healthy": 2, "unhealthy": 2}
DEREGISTRATION_DELAY_S = 30
"""ECS stops a task only after it left the target group: long enough for a unary call
at the gateway's longest deadline (GATEWAY_MAX_DEADLINE_S, 30 s by default) to end."""
LISTENERS_READY = "ListenersReady"


@dataclass(frozen=True)
class LoadBalancer:
    """What the gateway's ECS service and the outputs need from the balancer."""

    balancer: elb.LoadBalancer
    target_group: elb.TargetGroup
    security_group: ec2.SecurityGroup
    listeners_ready: cloudformation.WaitConditionHandle
    """Depends on every listener that exists: the ECS service depends on it, since a
    target group takes targets only once a listener forwards to it (the HTTPS listener
    is conditional, and DependsOn cannot name a resource that may not exist)."""


def add_load_balancer(
    template: Template, config: StackConfig, gateway: GatewaySpec
) -> LoadBalancer:
    """Adds the certificate parameter and condition, and the balancer with its parts."""
    template.add_parameter(
        Parameter(
            CERTIFICATE,
            Type="String",
            Default="",
            AllowedPattern=r"^(arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[A-Za-z0-9-]+)?$",
            Description="ACM certificate for HTTPS on 443 (empty: plain HTTP on 80 only)",
        )
    )
    template.add_condition(HAS_CERTIFICATE, Not(Equals(Ref(CERTIFICATE), "")))
    template.add_parameter(
        Parameter(
            ACCESS_LOGS_BUCKET,
            Type="String",
            Default="",
            AllowedPattern=r"^([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])?$",
            Description="S3 bucket for the load balancer's access logs (empty: none); its"
            " policy must let Elastic Load Balancing write to it (docs/AWS.md)",
        )
    )
    template.add_condition(HAS_ACCESS_LOGS, Not(Equals(Ref(ACCESS_LOGS_BUCKET), "")))
    group = template.add_resource(_security_group(gateway))
    balancer = template.add_resource(
        elb.LoadBalancer(
            "LoadBalancer",
            Name=scoped("edge"),
            Type="application",
            Scheme="internet-facing",
            IpAddressType="ipv4",
            Subnets=imported_list(Exports.PUBLIC_SUBNETS),
            SecurityGroups=[Ref(group)],
            LoadBalancerAttributes=[
                *(
                    elb.LoadBalancerAttributes(Key=key, Value=value)
                    for key, value in (
                        ("idle_timeout.timeout_seconds", str(config.alb_idle_timeout_s)),
                        ("routing.http.drop_invalid_header_fields.enabled", "true"),
                    )
                ),
                *_access_logs(),
            ],
        )
    )
    target_group = template.add_resource(_target_group(gateway))
    forward = elb.Action(Type="forward", TargetGroupArn=Ref(target_group))
    https = template.add_resource(
        elb.Listener(
            "HttpsListener",
            Condition=HAS_CERTIFICATE,
            LoadBalancerArn=Ref(balancer),
            Port=HTTPS_PORT,
            Protocol="HTTPS",
            SslPolicy=TLS_POLICY,
            Certificates=[elb.Certificate(CertificateArn=Ref(CERTIFICATE))],
            DefaultActions=[forward],
        )
    )
    redirect = elb.Action(
        Type="redirect",
        RedirectConfig=elb.RedirectConfig(
            Protocol="HTTPS", Port=str(HTTPS_PORT), StatusCode="HTTP_301"
        ),
    )
    http = template.add_resource(
        elb.Listener(
            "HttpListener",
            LoadBalancerArn=Ref(balancer),
            Port=HTTP_PORT,
            Protocol="HTTP",
            DefaultActions=[If(HAS_CERTIFICATE, redirect, forward)],
        )
    )
    ready = template.add_resource(
        cloudformation.WaitConditionHandle(
            LISTENERS_READY,
            # References create the dependencies; If drops the HTTPS one when absent.
            Metadata={
                "HttpListener": Ref(http),
                "HttpsListener": If(HAS_CERTIFICATE, Ref(https), ""),
            },
        )
    )
    return LoadBalancer(balancer, target_group, group, ready)


def _access_logs() -> list[object]:
    """Access logs to the AccessLogsBucket parameter's bucket, under the environment's
    prefix; off (and no bucket named) when it is empty."""
    return [
        elb.LoadBalancerAttributes(
            Key="access_logs.s3.enabled", Value=If(HAS_ACCESS_LOGS, "true", "false")
        ),
        If(
            HAS_ACCESS_LOGS,
            elb.LoadBalancerAttributes(Key="access_logs.s3.bucket", Value=Ref(ACCESS_LOGS_BUCKET)),
            NoValue,
        ),
        If(
            HAS_ACCESS_LOGS,
            elb.LoadBalancerAttributes(Key="access_logs.s3.prefix", Value=Ref(ENVIRONMENT)),
            NoValue,
        ),
    ]


def _security_group(gateway: GatewaySpec) -> ec2.SecurityGroup:
    """Anyone on 80 and 443; out only to the gateway's port inside the VPC."""
    return ec2.SecurityGroup(
        "LoadBalancerSecurityGroup",
        GroupDescription="Public HTTP and HTTPS to the edge load balancer",
        VpcId=imported(Exports.VPC_ID),
        SecurityGroupIngress=[
            ec2.SecurityGroupRule(
                IpProtocol="tcp",
                FromPort=port,
                ToPort=port,
                CidrIp="0.0.0.0/0",
                Description=f"{what} from anywhere",
            )
            for port, what in ((HTTP_PORT, "HTTP"), (HTTPS_PORT, "HTTPS"))
        ],
        SecurityGroupEgress=[
            ec2.SecurityGroupRule(
                IpProtocol="tcp",
                FromPort=gateway.http_port,
                ToPort=gateway.http_port,
                CidrIp=imported(Exports.VPC_CIDR),
                Description="To the gateway tasks and their health checks",
            )
        ],
    )


def _target_group(gateway: GatewaySpec) -> elb.TargetGroup:
    return elb.TargetGroup(
        "TargetGroup",
        TargetType="ip",
        Port=gateway.http_port,
        Protocol="HTTP",
        ProtocolVersion="HTTP1",
        VpcId=imported(Exports.VPC_ID),
        HealthCheckEnabled=True,
        HealthCheckProtocol="HTTP",
        HealthCheckPort="traffic-port",
        HealthCheckPath=LIVENESS_PATH,
        Matcher=elb.Matcher(HttpCode="200"),
        HealthCheckIntervalSeconds=TARGET_HEALTH["interval"],
        HealthCheckTimeoutSeconds=TARGET_HEALTH["timeout"],
        HealthyThresholdCount=TARGET_HEALTH["healthy"],
        UnhealthyThresholdCount=TARGET_HEALTH["unhealthy"],
        TargetGroupAttributes=[
            elb.TargetGroupAttribute(
                Key="deregistration_delay.timeout_seconds", Value=str(DEREGISTRATION_DELAY_S)
            )
        ],
    )


def gateway_url() -> If:
    """``https://`` or ``http://`` and the balancer's DNS name (point a DNS alias for the
    certificate's name at it, since the certificate does not name the balancer)."""
    return If(
        HAS_CERTIFICATE,
        Sub("https://${LoadBalancer.DNSName}"),
        Sub("http://${LoadBalancer.DNSName}"),
    )
