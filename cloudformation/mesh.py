"""The mesh stack: the ECS cluster, the Service Connect namespace, the VPC Lattice
service network (IAM auth, VPC association, access logs) and what every service shares.
"""

from __future__ import annotations

from troposphere import (
    GetAtt,
    If,
    Parameter,
    Ref,
    Sub,
    Template,
    ec2,
    ecs,
    iam,
    logs,
    servicediscovery,
    vpclattice,
)

from cloudformation.config import StackConfig, validate
from cloudformation.names import ENVIRONMENT, Exports, add_environment, export, imported, scoped
from cloudformation.policies import add_consumer_principals, network_auth_policy, trust

PREFIX_LIST_PATTERN = r"^pl-[0-9a-f]{8,17}$"
LATTICE_ROLE_POLICY = "AmazonECSInfrastructureRolePolicyForVpcLattice"


def build_mesh(config: StackConfig) -> Template:
    """The cluster, namespace, service network and the roles and groups services share."""
    validate(config)
    template = Template(
        Description=f"{config.manifest.name}: ECS cluster, Service Connect, VPC Lattice network"
    )
    add_environment(template, config.manifest.name)
    prefix_lists = _prefix_list_parameters(template)
    principals = add_consumer_principals(template)
    namespace = template.add_resource(
        servicediscovery.HttpNamespace(
            "ServiceConnectNamespace",
            Name=Ref(ENVIRONMENT),
            Description="Service Connect namespace of the mesh (no Route 53 zone)",
        )
    )
    cluster = template.add_resource(
        ecs.Cluster(
            "Cluster",
            ClusterName=scoped("cluster"),
            CapacityProviders=["FARGATE", "FARGATE_SPOT"],
            DefaultCapacityProviderStrategy=[
                ecs.CapacityProviderStrategyItem(CapacityProvider="FARGATE", Weight=1)
            ],
            ClusterSettings=[ecs.ClusterSetting(Name="containerInsights", Value="enabled")],
            ServiceConnectDefaults=ecs.ServiceConnectDefaults(Namespace=GetAtt(namespace, "Arn")),
        )
    )
    task_group = template.add_resource(
        ec2.SecurityGroup(
            "MeshTaskSecurityGroup",
            GroupDescription="Every task of the mesh: the source of Service Connect traffic",
            VpcId=imported(Exports.VPC_ID),
        )
    )
    network = _service_network(template, config, principals, task_group)
    role = template.add_resource(
        iam.Role(
            "EcsInfrastructureRole",
            Description="Lets ECS register task IPs in the VPC Lattice target groups",
            AssumeRolePolicyDocument=trust("ecs.amazonaws.com", source_account=False),
            ManagedPolicyArns=[
                Sub(f"arn:${{AWS::Partition}}:iam::aws:policy/{LATTICE_ROLE_POLICY}")
            ],
        )
    )
    export(template, Exports.CLUSTER_NAME, Ref(cluster), "ECS cluster name")
    export(template, Exports.CLUSTER_ARN, GetAtt(cluster, "Arn"), "ECS cluster ARN")
    export(template, Exports.NAMESPACE_ARN, GetAtt(namespace, "Arn"), "Service Connect namespace")
    export(template, Exports.NAMESPACE_NAME, Ref(ENVIRONMENT), "Service Connect namespace name")
    export(template, Exports.SERVICE_NETWORK_ID, GetAtt(network, "Id"), "Lattice service network")
    export(template, Exports.SERVICE_NETWORK_ARN, GetAtt(network, "Arn"), "Lattice network ARN")
    export(template, Exports.TASK_SECURITY_GROUP, Ref(task_group), "Security group of all tasks")
    export(template, Exports.INFRASTRUCTURE_ROLE_ARN, GetAtt(role, "Arn"), "ECS role for Lattice")
    export(template, Exports.PREFIX_LIST_IPV4, Ref(prefix_lists[0]), "Lattice prefix list (IPv4)")
    export(template, Exports.PREFIX_LIST_IPV6, Ref(prefix_lists[1]), "Lattice prefix list (IPv6)")
    return template


def _prefix_list_parameters(template: Template) -> tuple[Parameter, Parameter]:
    # The ids differ per region: the deploy step looks them up by name
    # (com.amazonaws.<region>.vpc-lattice and com.amazonaws.<region>.ipv6.vpc-lattice).
    return (
        template.add_parameter(
            Parameter(
                Exports.PREFIX_LIST_IPV4,
                Type="String",
                AllowedPattern=PREFIX_LIST_PATTERN,
                Description="Managed prefix list com.amazonaws.<region>.vpc-lattice",
            )
        ),
        template.add_parameter(
            Parameter(
                Exports.PREFIX_LIST_IPV6,
                Type="String",
                AllowedPattern=PREFIX_LIST_PATTERN,
                Description="Managed prefix list com.amazonaws.<region>.ipv6.vpc-lattice",
            )
        ),
    )


def _service_network(
    template: Template, config: StackConfig, principals: If, task_group: ec2.SecurityGroup
) -> vpclattice.ServiceNetwork:
    network = template.add_resource(
        vpclattice.ServiceNetwork("ServiceNetwork", Name=Ref(ENVIRONMENT), AuthType="AWS_IAM")
    )
    template.add_resource(
        vpclattice.AuthPolicy(
            "ServiceNetworkAuthPolicy",
            ResourceIdentifier=GetAtt(network, "Id"),
            Policy=network_auth_policy(principals),
        )
    )
    client_group = template.add_resource(
        ec2.SecurityGroup(
            "LatticeClientSecurityGroup",
            GroupDescription="Who in the VPC may reach the Lattice service network: mesh tasks",
            VpcId=imported(Exports.VPC_ID),
            SecurityGroupIngress=[
                ec2.SecurityGroupRule(
                    IpProtocol="tcp",
                    FromPort=443,
                    ToPort=443,
                    SourceSecurityGroupId=Ref(task_group),
                    Description="HTTPS (gRPC over TLS) from mesh tasks",
                )
            ],
        )
    )
    template.add_resource(
        vpclattice.ServiceNetworkVpcAssociation(
            "ServiceNetworkVpcAssociation",
            ServiceNetworkIdentifier=GetAtt(network, "Id"),
            VpcIdentifier=imported(Exports.VPC_ID),
            SecurityGroupIds=[Ref(client_group)],
        )
    )
    access_logs = template.add_resource(
        logs.LogGroup(
            "LatticeAccessLogGroup",
            LogGroupName=Sub(f"/${{{ENVIRONMENT}}}/lattice/access"),
            RetentionInDays=config.log_retention_days,
        )
    )
    template.add_resource(
        vpclattice.AccessLogSubscription(
            "ServiceNetworkAccessLogs",
            ResourceIdentifier=GetAtt(network, "Id"),
            DestinationArn=GetAtt(access_logs, "Arn"),
        )
    )
    return network
