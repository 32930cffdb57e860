"""IAM documents: trust policies and the VPC Lattice auth policies.

Lattice with ``AuthType: AWS_IAM`` denies everything its auth policy does not allow.
Every Allow here names its principals; none is an unconditioned ``Principal: "*"``.
"""

from __future__ import annotations

from typing import Any

from troposphere import AWSHelperFn, GetAtt, Sub
from troposphere.vpclattice import Service

INVOKE = "vpc-lattice-svcs:Invoke"
REFLECTION_SERVICES = (
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
)

Document = dict[str, Any]


def trust(service_principal: str) -> Document:
    """Lets one AWS service assume a role, only on behalf of this account."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": service_principal},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": Sub("${AWS::AccountId}")}},
            }
        ],
    }


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
