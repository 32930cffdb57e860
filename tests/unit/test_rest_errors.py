"""The REST baseline's error bodies are the gateway's: google.rpc.Status JSON rendered as
protobuf's JSON mapping renders it, and they turn back into the same DomainError."""

from __future__ import annotations

import pytest
from google.protobuf import json_format

from meshkit.errors import (
    ERROR_KINDS,
    DomainError,
    FailedPrecondition,
    FieldViolation,
    Internal,
    InvalidArgument,
    NotFound,
    Unavailable,
)
from meshkit.runtime.error_mapping import status_from_error
from meshkit.runtime.rest.errors import error_from_document, http_status_of, status_document

ERRORS: list[DomainError] = [
    InvalidArgument.of(FieldViolation("items[0].quantity", "must be 1..1000")),
    InvalidArgument.of(FieldViolation("region", ""), FieldViolation("sku", "bad")),
    NotFound(
        message="product SKU-9 does not exist",
        reason="PRODUCT_NOT_FOUND",
        resource_type="product",
        resource_name="SKU-9",
    ),
    FailedPrecondition(message="declined", reason="PAYMENT_DECLINED", metadata={"order_id": "o"}),
    Unavailable(message="down", reason="PROCESSOR_DOWN", retry_after_s=1.5),
    Unavailable(message="down", reason="PROCESSOR_DOWN", retry_after_s=2.0),
    Unavailable(message="down", reason="X", retry_after_s=0.000123),
    Unavailable(message="down", reason="X", retry_after_s=0.000000123),
    *(cls(message=f"a {kind}", reason=kind.upper()) for kind, cls in ERROR_KINDS.items()),
]


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: f"{e.kind}-{e.reason}")
def test_status_document_equals_protobufs_json_of_the_grpc_status(error: DomainError) -> None:
    """The hand-built document is exactly what json_format makes of the gRPC status."""
    expected = json_format.MessageToDict(status_from_error(error))
    expected.setdefault("details", [])
    assert status_document(error) == expected


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: f"{e.kind}-{e.reason}")
def test_document_turns_back_into_the_same_error(error: DomainError) -> None:
    """What a REST hop answers is what its caller raises: kind, reason, details."""
    document = status_document(error)
    again = error_from_document(http_status_of(document), document)
    assert type(again) is type(error)
    assert (again.message, again.reason, dict(again.metadata)) == (
        error.message,
        error.reason,
        dict(error.metadata),
    )
    assert again.violations == error.violations
    assert (again.resource_type, again.resource_name) == (error.resource_type, error.resource_name)
    if error.retry_after_s is None:
        assert again.retry_after_s is None
    else:
        assert again.retry_after_s == pytest.approx(error.retry_after_s)


@pytest.mark.parametrize(
    ("http_status", "body", "kind"),
    [
        (503, "<html>bad gateway</html>", "unavailable"),
        (502, None, "unavailable"),
        (504, [], "deadline_exceeded"),
        (500, {"code": "13"}, "internal"),
        (418, {"message": "teapot"}, "internal"),
        (400, {"code": 99, "message": "from the future"}, "internal"),
    ],
)
def test_a_reply_that_is_not_a_status_still_becomes_an_error_of_the_right_kind(
    http_status: int, body: object, kind: str
) -> None:
    """A proxy's HTML page or a garbled body never surfaces as a parse failure."""
    error = error_from_document(http_status, body)
    assert error.kind == kind
    assert isinstance(error, DomainError)
    if kind == "internal":
        assert isinstance(error, Internal)
