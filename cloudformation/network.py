"""The network stack: a VPC over two or three AZs, public subnets for the edge load
balancer, private subnets for tasks, and their way out to AWS APIs.

Egress defaults to VPC endpoints (see ``StackConfig.egress``): tasks get no route to the
internet at all, image pulls and logs stay on the AWS network, and the endpoints cost
less than one NAT gateway per AZ. ``egress="nat"`` switches to NAT gateways for
services that must reach the internet.
"""

from __future__ import annotations

from troposphere import Cidr, GetAtt, GetAZs, Parameter, Ref, Select, Sub, Tags, Template, ec2

from cloudformation.config import StackConfig, validate
from cloudformation.names import Exports, add_environment, export, joined, scoped
from cloudformation.secrets import needs_secrets_manager

INTERFACE_ENDPOINTS = ("ecr.api", "ecr.dkr", "logs", "ssm")
"""What a private Fargate task needs without NAT: image manifests and layers' metadata
(ECR api and dkr), awslogs, and SSM parameters for secrets."""
SECRETS_MANAGER_ENDPOINT = "secretsmanager"
EXEC_ENDPOINT = "ssmmessages"
"""ECS Exec's Session Manager channels: added with the operator stack, whose shell needs
them (about $15/month in two AZs; without it the operator task could not be reached)."""
"""Added only when a configured secret lives in Secrets Manager."""
GATEWAY_ENDPOINTS = ("s3", "dynamodb")
"""Free gateway endpoints, added in both modes: ECR layers live in S3, and the stateful
services' tables (a later stack) in DynamoDB."""


def build_network(config: StackConfig) -> Template:
    """The VPC, its subnets, routes and egress (VPC endpoints or NAT)."""
    validate(config)
    template = Template(Description=f"{config.manifest.name}: network (VPC, subnets, egress)")
    add_environment(template, config.manifest.name)
    prefix = config.vpc_cidr.partition("/")[2]
    template.add_parameter(
        ec2_cidr_parameter(config.vpc_cidr, prefix),
    )
    vpc = template.add_resource(
        ec2.VPC(
            "Vpc",
            CidrBlock=Ref("VpcCidr"),
            EnableDnsHostnames=True,  # private DNS of interface endpoints needs both
            EnableDnsSupport=True,
            Tags=Tags(Name=scoped("vpc")),
        )
    )
    zones = range(config.availability_zones)
    # Equal slices of prefix+4 bits: room for 16 subnets, 6 used at most.
    cidrs = Cidr(Ref("VpcCidr"), 2 * config.availability_zones, 32 - int(prefix) - 4)
    public = [_subnet(template, "Public", az, Select(az, cidrs)) for az in zones]
    private = [
        _subnet(template, "Private", az, Select(config.availability_zones + az, cidrs))
        for az in zones
    ]
    attachment = _internet_gateway(template, public)
    private_tables = [
        _private_route_table(template, az, subnet) for az, subnet in enumerate(private)
    ]
    if config.egress == "nat":
        _nat_gateways(template, public, private_tables, config.nat_per_az, attachment)
    else:
        _interface_endpoints(template, private, config)
    for service in GATEWAY_ENDPOINTS:
        template.add_resource(
            ec2.VPCEndpoint(
                f"{service.capitalize()}GatewayEndpoint",
                VpcId=Ref(vpc),
                VpcEndpointType="Gateway",
                ServiceName=Sub(f"com.amazonaws.${{AWS::Region}}.{service}"),
                RouteTableIds=[Ref(table) for table in private_tables],
            )
        )
    export(template, Exports.VPC_ID, Ref(vpc), "VPC of the mesh")
    export(template, Exports.VPC_CIDR, GetAtt(vpc, "CidrBlock"), "CIDR block of the VPC")
    export(
        template,
        Exports.PRIVATE_SUBNETS,
        joined([Ref(s) for s in private]),
        "Private subnets of the tasks (comma-separated)",
    )
    export(
        template,
        Exports.PUBLIC_SUBNETS,
        joined([Ref(s) for s in public]),
        "Public subnets of the edge load balancer (comma-separated)",
    )
    return template


def ec2_cidr_parameter(default: str, prefix: str) -> Parameter:
    """VpcCidr: any block of the configured size (subnet sizes are derived from it)."""
    return Parameter(
        "VpcCidr",
        Type="String",
        Default=default,
        AllowedPattern=rf"^(\d{{1,3}}\.){{3}}\d{{1,3}}/{prefix}$",
        Description=f"IPv4 block of the VPC (a /{prefix}; subnets are /{int(prefix) + 4})",
    )


def _subnet(template: Template, kind: str, az: int, cidr: object) -> ec2.Subnet:
    return template.add_resource(
        ec2.Subnet(
            f"{kind}Subnet{az + 1}",
            VpcId=Ref("Vpc"),
            AvailabilityZone=Select(az, GetAZs(Ref("AWS::Region"))),
            CidrBlock=cidr,
            MapPublicIpOnLaunch=False,
            Tags=Tags(Name=scoped(f"{kind.lower()}-{az + 1}")),
        )
    )


def _internet_gateway(template: Template, public: list[ec2.Subnet]) -> ec2.VPCGatewayAttachment:
    igw = template.add_resource(ec2.InternetGateway("InternetGateway"))
    attachment = template.add_resource(
        ec2.VPCGatewayAttachment(
            "InternetGatewayAttachment", VpcId=Ref("Vpc"), InternetGatewayId=Ref(igw)
        )
    )
    table = template.add_resource(ec2.RouteTable("PublicRouteTable", VpcId=Ref("Vpc")))
    template.add_resource(
        ec2.Route(
            "PublicDefaultRoute",
            DependsOn=attachment.title,
            RouteTableId=Ref(table),
            DestinationCidrBlock="0.0.0.0/0",
            GatewayId=Ref(igw),
        )
    )
    for subnet in public:
        template.add_resource(
            ec2.SubnetRouteTableAssociation(
                f"{subnet.title}RouteTableAssociation",
                SubnetId=Ref(subnet),
                RouteTableId=Ref(table),
            )
        )
    return attachment


def _private_route_table(template: Template, az: int, subnet: ec2.Subnet) -> ec2.RouteTable:
    # One table per AZ, so each can point at its own NAT gateway when nat_per_az is set.
    table = template.add_resource(ec2.RouteTable(f"PrivateRouteTable{az + 1}", VpcId=Ref("Vpc")))
    template.add_resource(
        ec2.SubnetRouteTableAssociation(
            f"{subnet.title}RouteTableAssociation", SubnetId=Ref(subnet), RouteTableId=Ref(table)
        )
    )
    return table


def _nat_gateways(
    template: Template,
    public: list[ec2.Subnet],
    tables: list[ec2.RouteTable],
    per_az: bool,
    attachment: ec2.VPCGatewayAttachment,
) -> None:
    count = len(public) if per_az else 1
    gateways = []
    for index in range(count):
        eip = template.add_resource(
            ec2.EIP(f"NatAddress{index + 1}", Domain="vpc", DependsOn=attachment.title)
        )
        gateways.append(
            template.add_resource(
                ec2.NatGateway(
                    f"NatGateway{index + 1}",
                    AllocationId=GetAtt(eip, "AllocationId"),
                    SubnetId=Ref(public[index]),
                )
            )
        )
    for az, table in enumerate(tables):
        template.add_resource(
            ec2.Route(
                f"PrivateDefaultRoute{az + 1}",
                RouteTableId=Ref(table),
                DestinationCidrBlock="0.0.0.0/0",
                NatGatewayId=Ref(gateways[az % count]),
            )
        )


def _interface_endpoints(
    template: Template, private: list[ec2.Subnet], config: StackConfig
) -> None:
    group = template.add_resource(
        ec2.SecurityGroup(
            "EndpointSecurityGroup",
            GroupDescription="HTTPS from the VPC to the interface endpoints",
            VpcId=Ref("Vpc"),
            SecurityGroupIngress=[
                ec2.SecurityGroupRule(
                    IpProtocol="tcp", FromPort=443, ToPort=443, CidrIp=GetAtt("Vpc", "CidrBlock")
                )
            ],
        )
    )
    extra = (
        *((SECRETS_MANAGER_ENDPOINT,) if needs_secrets_manager(config) else ()),
        *((EXEC_ENDPOINT,) if config.operator else ()),
    )
    for service in (*INTERFACE_ENDPOINTS, *extra):
        template.add_resource(
            ec2.VPCEndpoint(
                "".join(part.capitalize() for part in service.split(".")) + "Endpoint",
                VpcId=Ref("Vpc"),
                VpcEndpointType="Interface",
                ServiceName=Sub(f"com.amazonaws.${{AWS::Region}}.{service}"),
                PrivateDnsEnabled=True,
                SubnetIds=[Ref(s) for s in private],
                SecurityGroupIds=[Ref(group)],
            )
        )
