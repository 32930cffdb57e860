"""The one gRPC code → HTTP status table, shared by the gateway and the REST baseline.

Both HTTP faces of the shop answer errors as ``google.rpc.Status`` JSON with the HTTP
status from ``GRPC_TO_HTTP``, so a client sees the same status for the same failure
whether the gateway transcoded it or a REST service raised it itself. Nothing here
imports grpc: the REST services must not need it.
"""

from __future__ import annotations

from enum import IntEnum


class GrpcCode(IntEnum):
    """The 17 canonical gRPC status codes (google.rpc.Code)."""

    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16


GRPC_TO_HTTP: dict[int, int] = {
    GrpcCode.OK: 200,
    GrpcCode.CANCELLED: 499,  # nginx's "client closed request", as grpc-gateway uses
    GrpcCode.UNKNOWN: 500,
    GrpcCode.INVALID_ARGUMENT: 400,
    GrpcCode.DEADLINE_EXCEEDED: 504,
    GrpcCode.NOT_FOUND: 404,
    GrpcCode.ALREADY_EXISTS: 409,
    GrpcCode.PERMISSION_DENIED: 403,
    GrpcCode.RESOURCE_EXHAUSTED: 429,
    GrpcCode.FAILED_PRECONDITION: 400,
    GrpcCode.ABORTED: 409,
    GrpcCode.OUT_OF_RANGE: 400,
    GrpcCode.UNIMPLEMENTED: 501,
    GrpcCode.INTERNAL: 500,
    GrpcCode.UNAVAILABLE: 503,
    GrpcCode.DATA_LOSS: 500,
    GrpcCode.UNAUTHENTICATED: 401,
}
"""gRPC code → HTTP status for all 17 codes (google.rpc.Code's documented mapping)."""

CODE_OF_KIND: dict[str, GrpcCode] = {
    "invalid_argument": GrpcCode.INVALID_ARGUMENT,
    "not_found": GrpcCode.NOT_FOUND,
    "already_exists": GrpcCode.ALREADY_EXISTS,
    "failed_precondition": GrpcCode.FAILED_PRECONDITION,
    "aborted": GrpcCode.ABORTED,
    "resource_exhausted": GrpcCode.RESOURCE_EXHAUSTED,
    "unavailable": GrpcCode.UNAVAILABLE,
    "deadline_exceeded": GrpcCode.DEADLINE_EXCEEDED,
    "cancelled": GrpcCode.CANCELLED,
    "internal": GrpcCode.INTERNAL,
}
"""The status code of each DomainError kind (both transports)."""

KIND_OF_CODE: dict[int, str] = {
    **{code: kind for kind, code in CODE_OF_KIND.items()},
    # Codes with no domain meaning of their own collapse to the nearest kind.
    GrpcCode.OUT_OF_RANGE: "invalid_argument",
}
"""The DomainError kind a downstream status code becomes (anything else: internal)."""
