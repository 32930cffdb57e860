"""Names shared by the stacks: parameters, cross-stack exports and stack names.

Every stack takes the same ``EnvironmentName`` parameter and prefixes its exports with
it, so one account and region can hold several environments side by side, and a stack
that imports another's export cannot be created before it nor deleted after it.
"""

from __future__ import annotations

from troposphere import (
    Export,
    ImportValue,
    Join,
    Output,
    Parameter,
    Split,
    Sub,
    Template,
)

from cloudformation.config import ENVIRONMENT_NAME_MAX, ENVIRONMENT_PATTERN

ENVIRONMENT = "EnvironmentName"

NETWORK = "network"
REGISTRY = "registry"
MESH = "mesh"
STORAGE = "storage"
EDGE = "edge"
OPERATOR_STACK = "operator"
SERVICE_STACK_PREFIX = "svc-"


def add_environment(template: Template, default: str) -> Parameter:
    """Adds the EnvironmentName parameter every stack shares."""
    return template.add_parameter(
        Parameter(
            ENVIRONMENT,
            Type="String",
            Default=default,
            AllowedPattern=ENVIRONMENT_PATTERN,
            MinLength=3,  # Lattice service network names are 3-63 characters
            MaxLength=ENVIRONMENT_NAME_MAX,
            Description="Prefix of every name and export (lower-case letters, digits, '-';"
            " not svc-, tg-, servicenetwork- or internal-, which Lattice and ELB names refuse)",
        )
    )


def scoped(suffix: str) -> Sub:
    """``<EnvironmentName>-<suffix>``: resource names and export names."""
    return Sub(f"${{{ENVIRONMENT}}}-{suffix}")


def export(template: Template, key: str, value: object, description: str) -> None:
    """Adds output ``key`` exported as ``<EnvironmentName>-<key>``."""
    template.add_output(
        Output(key, Value=value, Description=description, Export=Export(scoped(key)))
    )


def imported(key: str) -> ImportValue:
    """The value another stack of this environment exported as ``key``."""
    return ImportValue(scoped(key))


def imported_list(key: str) -> Split:
    """A comma-joined list another stack exported as ``key``."""
    return Split(",", imported(key))


def joined(values: list[object]) -> Join:
    """Comma-joins a list so it fits in one export (read back with ``imported_list``)."""
    return Join(",", values)


def stack_name(environment: str, stack: str) -> str:
    """The CloudFormation stack name of one stack of an environment."""
    return f"{environment}-{stack}"


def service_stack(service: str) -> str:
    """The stack key of a manifest service (``svc-orders``)."""
    return f"{SERVICE_STACK_PREFIX}{service}"


def logical_id(name: str) -> str:
    """A manifest name as part of a logical id: ``read-model`` → ``ReadModel``."""
    return "".join(part.capitalize() for part in name.split("-"))


class Exports:
    """Export keys, one place: the producer and every consumer use these names."""

    VPC_ID = "VpcId"
    VPC_CIDR = "VpcCidr"
    PRIVATE_SUBNETS = "PrivateSubnetIds"
    PUBLIC_SUBNETS = "PublicSubnetIds"
    CLUSTER_NAME = "ClusterName"
    CLUSTER_ARN = "ClusterArn"
    NAMESPACE_ARN = "ServiceConnectNamespaceArn"
    NAMESPACE_NAME = "ServiceConnectNamespaceName"
    SERVICE_NETWORK_ID = "LatticeServiceNetworkId"
    SERVICE_NETWORK_ARN = "LatticeServiceNetworkArn"
    TASK_SECURITY_GROUP = "MeshTaskSecurityGroupId"
    INFRASTRUCTURE_ROLE_ARN = "EcsInfrastructureRoleArn"
    PREFIX_LIST_IPV4 = "LatticePrefixListIdIpv4"
    PREFIX_LIST_IPV6 = "LatticePrefixListIdIpv6"

    @staticmethod
    def repository_uri(service: str) -> str:
        return f"{logical_id(service)}RepositoryUri"

    @staticmethod
    def repository_arn(service: str) -> str:
        return f"{logical_id(service)}RepositoryArn"

    @staticmethod
    def connect_name(service: str) -> str:
        return f"{logical_id(service)}ServiceConnectName"

    @staticmethod
    def lattice_arn(service: str) -> str:
        return f"{logical_id(service)}LatticeServiceArn"

    @staticmethod
    def lattice_dns(service: str) -> str:
        return f"{logical_id(service)}LatticeDnsName"

    @staticmethod
    def table_name(service: str) -> str:
        return f"{logical_id(service)}TableName"

    @staticmethod
    def table_arn(service: str) -> str:
        return f"{logical_id(service)}TableArn"
