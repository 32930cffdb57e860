"""The one gRPC code → HTTP status table of the gateway, and the error response it sends.

Every error the gateway writes, from the edge middleware or the transcoder, is a
``google.rpc.Status`` JSON body (``{"code", "message", "details"}``) whose HTTP status
comes from ``GRPC_TO_HTTP`` (R-A15). Where HTTP has a more precise status than a code's
row (408, 413, 415, 431, 405), the caller passes it explicitly with the nearest code.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from enum import IntEnum
from typing import Any


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

JSON_CONTENT_TYPE = b"application/json"

Send = Callable[[dict[str, Any]], Awaitable[None]]


def status_body(
    grpc_code: int, message: str, details: Sequence[Mapping[str, object]] = ()
) -> bytes:
    """The google.rpc.Status JSON document, encoded."""
    document = {"code": int(grpc_code), "message": message, "details": list(details)}
    return json.dumps(document, separators=(",", ":")).encode()


async def send_status(
    send: Send,
    http_status: int,
    grpc_code: int,
    message: str,
    headers: Iterable[tuple[bytes, bytes]] = (),
    *,
    details: Sequence[Mapping[str, object]] = (),
) -> None:
    """Writes a complete google.rpc.Status JSON response on an ASGI ``send``."""
    body = status_body(grpc_code, message, details)
    await send(
        {
            "type": "http.response.start",
            "status": http_status,
            "headers": [
                (b"content-type", JSON_CONTENT_TYPE),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})
