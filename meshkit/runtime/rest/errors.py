"""DomainError ↔ ``google.rpc.Status`` JSON, the error body of every HTTP face.

A REST service answers a failure exactly as the gateway answers the same failure
transcoded from gRPC: ``{"code", "message", "details"}`` with ErrorInfo, BadRequest,
ResourceInfo and RetryInfo rendered as protobuf's JSON mapping renders them, and the
HTTP status from ``meshkit.http_status``. Built from plain dicts (no protobuf,
no grpc); tests hold it equal to ``json_format`` of ``error_mapping.status_from_error``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from meshkit.errors import (
    ERROR_DOMAIN,
    ERROR_KINDS,
    DeadlineExceeded,
    DomainError,
    FieldViolation,
    Internal,
    Unavailable,
)
from meshkit.http_status import CODE_OF_KIND, GRPC_TO_HTTP, KIND_OF_CODE, GrpcCode

TYPE_PREFIX = "type.googleapis.com/google.rpc."

_KNOWN_CODES = frozenset(int(code) for code in GrpcCode)


def _duration(seconds: float) -> str:
    """A google.protobuf.Duration in its JSON form ("1.500s"), as json_format writes it."""
    nanos_total = round(seconds * 1e9)
    whole, nanos = divmod(nanos_total, 1_000_000_000)
    if nanos == 0:
        return f"{whole}s"
    if nanos % 1_000_000 == 0:
        return f"{whole}.{nanos // 1_000_000:03d}s"
    if nanos % 1_000 == 0:
        return f"{whole}.{nanos // 1_000:06d}s"
    return f"{whole}.{nanos:09d}s"


def _parse_duration(text: str) -> float | None:
    try:
        return float(text.removesuffix("s")) if text.endswith("s") else None
    except ValueError:
        return None


def _without_empty(document: dict[str, Any]) -> dict[str, Any]:
    # proto3 JSON leaves out fields at their default value.
    return {key: value for key, value in document.items() if value not in ("", {}, [])}


def status_document(error: DomainError) -> dict[str, Any]:
    """The google.rpc.Status JSON of a domain error, details included."""
    details: list[dict[str, Any]] = [
        _without_empty(
            {
                "@type": TYPE_PREFIX + "ErrorInfo",
                "reason": error.reason,
                "domain": ERROR_DOMAIN,
                "metadata": dict(error.metadata),
            }
        )
    ]
    if error.violations:
        violations = [
            _without_empty({"field": v.field, "description": v.description})
            for v in error.violations
        ]
        details.append({"@type": TYPE_PREFIX + "BadRequest", "fieldViolations": violations})
    if error.resource_type:
        details.append(
            _without_empty(
                {
                    "@type": TYPE_PREFIX + "ResourceInfo",
                    "resourceType": error.resource_type,
                    "resourceName": error.resource_name,
                }
            )
        )
    if error.retry_after_s is not None:
        details.append(
            {"@type": TYPE_PREFIX + "RetryInfo", "retryDelay": _duration(error.retry_after_s)}
        )
    return _status(CODE_OF_KIND[error.kind], error.message, details)


def _status(code: int, message: str, details: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {"code": int(code), "message": message, "details": list(details)}


def http_status_of(document: Mapping[str, Any]) -> int:
    """The HTTP status for a status document (500 for a code outside the table)."""
    return GRPC_TO_HTTP.get(document["code"], 500)


def internal_document(exc: BaseException, where: str) -> dict[str, Any]:
    """INTERNAL with an opaque id; the traceback goes to our log, never on the wire."""
    return status_document(Internal.unexpected(exc, where))


def problem_document(code: GrpcCode, message: str, reason: str) -> dict[str, Any]:
    """A status the HTTP layer itself answers (no route, body too large, ...)."""
    info = {"@type": TYPE_PREFIX + "ErrorInfo", "reason": reason, "domain": ERROR_DOMAIN}
    return _status(code, message, [info])


def error_from_document(http_status: int, document: Any) -> DomainError:
    """Rebuilds the DomainError a downstream REST service answered with.

    A body that is not a status document (a proxy's HTML page, say) still becomes an
    error of the right kind by its HTTP status, so a caller never sees a parse failure.
    """
    if not isinstance(document, dict) or not isinstance(document.get("code"), int):
        return _error_from_http_status(http_status)
    code = document["code"]
    cls = ERROR_KINDS.get(KIND_OF_CODE.get(code, "internal"), Internal)
    message = document.get("message")
    fields: dict[str, Any] = {
        "message": message if isinstance(message, str) else "",
        "reason": GrpcCode(code).name if code in _KNOWN_CODES else "UNKNOWN",
    }
    details = document.get("details")
    for detail in details if isinstance(details, list) else ():
        if isinstance(detail, dict):
            fields.update(_detail_fields(detail))
    return cls(**fields)


def _detail_fields(detail: Mapping[str, Any]) -> dict[str, Any]:
    kind = str(detail.get("@type", "")).removeprefix(TYPE_PREFIX)
    if kind == "ErrorInfo":
        metadata = detail.get("metadata", {})
        return {
            "reason": str(detail.get("reason", "")),
            "metadata": {str(k): str(v) for k, v in metadata.items()}
            if isinstance(metadata, dict)
            else {},
        }
    if kind == "BadRequest":
        violations = detail.get("fieldViolations", [])
        return {
            "violations": tuple(
                FieldViolation(str(v.get("field", "")), str(v.get("description", "")))
                for v in violations
                if isinstance(v, dict)
            )
        }
    if kind == "ResourceInfo":
        return {
            "resource_type": str(detail.get("resourceType", "")),
            "resource_name": str(detail.get("resourceName", "")),
        }
    if kind == "RetryInfo":
        return {"retry_after_s": _parse_duration(str(detail.get("retryDelay", "")))}
    return {}


def _error_from_http_status(http_status: int) -> DomainError:
    message = f"downstream answered HTTP {http_status} without a status body"
    if http_status == 504:
        return DeadlineExceeded(message=message, reason="DEADLINE_EXCEEDED")
    if http_status in (502, 503):
        return Unavailable(message=message, reason="UNAVAILABLE")
    return Internal(message=message, reason="BAD_DOWNSTREAM_REPLY")
