"""IAM documents: trust policies and the VPC Lattice auth policies.

Lattice with ``AuthType: AWS_IAM`` denies everything its auth policy does not allow.
Every Allow here names its principals; none is an unconditioned ``Principal: "*"``.
"""

from __future__ import annotations

from typing import Any

from troposphere import (
    AccountId,
    AWSHelperFn,
    Equals,
    GetAtt,
    If,
    Join,
    Parameter,
    Partition,
    Ref,
    Sub,
    Template,
)
from troposphere.vpclattice import Service

INVOKE = "vpc-lattice-svcs:Invoke"
REFLECTION_SERVICES = (
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
)

Document = dict[str, Any]

CONSUMERS = "LatticeConsumerPrincipals"
NO_CONSUMERS = "ConsumersDefaultToThisAccount"


def add_consumer_principals(template: Template) -> If:
    """The LatticeConsumerPrincipals parameter, and who may invoke through Lattice: the
    given IAM principals, else this account. A parameter of every stack whose auth
    policies name them, never an export: exports that other stacks import cannot change,
    and the list of callers does."""
    template.add_parameter(
        Parameter(
            CONSUMERS,
            Type="CommaDelimitedList",
            Default="",
            Description="IAM principal ARNs allowed to call the mesh through VPC Lattice"
            " (empty: principals of this account that IAM policies allow)",
        )
    )
    template.add_condition(NO_CONSUMERS, Equals(Join("", Ref(CONSUMERS)), ""))
    return If(
        NO_CONSUMERS,
        [Join("", ["arn:", Partition, ":iam::", AccountId, ":root"])],
        Ref(CONSUMERS),
    )


def trust(service_principal: str, *, source_account: bool = True) -> Document:
    """Lets one AWS service assume a role; with ``source_account`` only on behalf of this
    account (the confused-deputy guard ECS documents for task roles). ECS's documented
    trust policy of the infrastructure role has no condition, and ECS does not promise to
    send aws:SourceAccount when it assumes that role, so it goes without."""
    statement: Document = {
        "Effect": "Allow",
        "Principal": {"Service": service_principal},
        "Action": "sts:AssumeRole",
    }
    if source_account:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": Sub("${AWS::AccountId}")}}
    return {"Version": "2012-10-17", "Statement": [statement]}


def network_auth_policy(principals: AWSHelperFn) -> Document:
    """Service network: only the consumer principals may invoke through it at all."""
    return _invoke("InvokeByConsumerPrincipals", principals, "*")


def service_auth_policy(
    service: Service,
    principals: AWSHelperFn,
    proto_services: tuple[str, ...],
    allow_reflection: bool,
) -> Document:
    """One Lattice service: the consumer principals may POST to its gRPC methods only."""
    allowed = (*proto_services, *(REFLECTION_SERVICES if allow_reflection else ()))
    return _invoke(
        "InvokeGrpcMethods",
        principals,
        Sub("${Arn}/*", Arn=GetAtt(service, "Arn")),
        Condition={
            # gRPC is always an HTTP/2 POST to /<package.Service>/<Method>.
            "StringEquals": {"vpc-lattice-svcs:RequestMethod": "POST"},
            "StringLike": {"vpc-lattice-svcs:RequestPath": [f"/{name}/*" for name in allowed]},
        },
    )


def _invoke(sid: str, principals: AWSHelperFn, resource: object, **extra: Any) -> Document:
    """An auth policy of one statement: ``principals`` may invoke ``resource``."""
    statement = {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"AWS": principals},
        "Action": INVOKE,
        "Resource": resource,
        **extra,
    }
    return {"Version": "2012-10-17", "Statement": [statement]}
