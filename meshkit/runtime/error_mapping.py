"""The one boundary between domain errors and gRPC statuses, in both directions.

Outgoing (server side): a DomainError becomes its status code plus google.rpc.Status
details (ErrorInfo, BadRequest, ResourceInfo, RetryInfo) in ``grpc-status-details-bin``;
anything else becomes INTERNAL with an opaque error id, the traceback staying in our log.
Incoming (client side): a downstream status becomes the matching DomainError again, so
domain code never sees grpc types.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, ParamSpec, TypeVar

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.protobuf.message import DecodeError
from google.rpc import code_pb2, error_details_pb2, status_pb2

from meshkit.errors import (
    ERROR_DOMAIN,
    ERROR_KINDS,
    DomainError,
    FieldViolation,
    Internal,
)
from meshkit.http_status import CODE_OF_KIND, KIND_OF_CODE

STATUS_DETAILS_KEY = "grpc-status-details-bin"


P = ParamSpec("P")
T = TypeVar("T")

_STATUS_CODES: dict[int, grpc.StatusCode] = {code.value[0]: code for code in grpc.StatusCode}
CODE_BY_KIND: dict[str, grpc.StatusCode] = {
    kind: _STATUS_CODES[code] for kind, code in CODE_OF_KIND.items()
}
KIND_BY_CODE: dict[grpc.StatusCode, str] = {
    _STATUS_CODES[code]: kind for code, kind in KIND_OF_CODE.items()
}


def _pack(message: object) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)  # type: ignore[arg-type]
    return packed


def status_from_error(error: DomainError) -> status_pb2.Status:
    """The google.rpc.Status for a domain error, details included."""
    code = CODE_BY_KIND[error.kind]
    details = [
        _pack(
            error_details_pb2.ErrorInfo(
                reason=error.reason, domain=ERROR_DOMAIN, metadata=dict(error.metadata)
            )
        )
    ]
    if error.violations:
        details.append(
            _pack(
                error_details_pb2.BadRequest(
                    field_violations=[
                        error_details_pb2.BadRequest.FieldViolation(
                            field=v.field, description=v.description
                        )
                        for v in error.violations
                    ]
                )
            )
        )
    if error.resource_type:
        details.append(
            _pack(
                error_details_pb2.ResourceInfo(
                    resource_type=error.resource_type, resource_name=error.resource_name
                )
            )
        )
    if error.retry_after_s is not None:
        delay = duration_pb2.Duration()
        delay.FromNanoseconds(int(error.retry_after_s * 1e9))
        details.append(_pack(error_details_pb2.RetryInfo(retry_delay=delay)))
    return status_pb2.Status(code=code.value[0], message=error.message, details=details)


def internal_status(exc: BaseException, method: str) -> status_pb2.Status:
    """INTERNAL with an opaque id; the traceback goes to our log, never on the wire."""
    return status_from_error(Internal.unexpected(exc, method))


def trailing_metadata_for(status: status_pb2.Status) -> tuple[tuple[str, bytes], ...]:
    return ((STATUS_DETAILS_KEY, status.SerializeToString()),)


def error_from_status(status: status_pb2.Status) -> DomainError:
    """Rebuilds a DomainError from a google.rpc.Status (per-item stream errors)."""
    try:
        code = grpc.StatusCode[code_pb2.Code.Name(status.code)]
    except (KeyError, ValueError):
        code = grpc.StatusCode.UNKNOWN
    return _error(code, status.message, status.details)


def status_of_rpc(error: grpc.aio.AioRpcError) -> status_pb2.Status:
    """The full google.rpc.Status of a failed call: from its status details when they
    are there and readable, else just its code and message."""
    for key, value in error.trailing_metadata() or ():
        if key == STATUS_DETAILS_KEY and isinstance(value, bytes):
            try:
                return status_pb2.Status.FromString(value)
            except DecodeError:  # a garbled trailer is not worth a crash: fall back below
                break
    return status_pb2.Status(code=error.code().value[0], message=error.details() or "")


def error_from_rpc(error: grpc.aio.AioRpcError) -> DomainError:
    """Rebuilds a DomainError from a failed downstream call, details included."""
    details = status_of_rpc(error).details
    return _error(error.code(), error.details() or error.code().name, details)


def translate_rpc_errors(
    function: Callable[P, Coroutine[Any, Any, T]],
) -> Callable[P, Coroutine[Any, Any, T]]:
    """Decorates a client adapter method so downstream failures arrive as DomainErrors."""

    @functools.wraps(function)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await function(*args, **kwargs)
        except grpc.aio.AioRpcError as error:
            raise error_from_rpc(error) from None

    return wrapper


def _error(code: grpc.StatusCode, message: str, details: Sequence[any_pb2.Any]) -> DomainError:
    cls = ERROR_KINDS.get(KIND_BY_CODE.get(code, "internal"), Internal)
    reason = code.name
    metadata: dict[str, str] = {}
    violations: list[FieldViolation] = []
    resource_type = resource_name = ""
    retry_after_s: float | None = None
    for detail in details:
        info = error_details_pb2.ErrorInfo()
        bad = error_details_pb2.BadRequest()
        resource = error_details_pb2.ResourceInfo()
        retry = error_details_pb2.RetryInfo()
        if detail.Unpack(info):
            reason, metadata = info.reason, dict(info.metadata)
        elif detail.Unpack(bad):
            violations = [FieldViolation(v.field, v.description) for v in bad.field_violations]
        elif detail.Unpack(resource):
            resource_type, resource_name = resource.resource_type, resource.resource_name
        elif detail.Unpack(retry):
            retry_after_s = retry.retry_delay.ToNanoseconds() / 1e9
    return cls(
        message=message,
        reason=reason,
        metadata=metadata,
        violations=tuple(violations),
        resource_type=resource_type,
        resource_name=resource_name,
        retry_after_s=retry_after_s,
    )
