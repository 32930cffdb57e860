"""The error response the gateway sends, with the one gRPC code → HTTP status table.

Every error the gateway writes, from the edge middleware or the transcoder, is a
``google.rpc.Status`` JSON body (``{"code", "message", "details"}``) whose HTTP status
comes from ``GRPC_TO_HTTP`` (R-A15), the table the REST baseline's services share
(``meshkit.http_status``). Where HTTP has a more precise status than a code's
row (408, 413, 415, 431, 405), the caller passes it explicitly with the nearest code.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence

from meshkit.asgi import Send
from meshkit.http_status import GRPC_TO_HTTP, GrpcCode

__all__ = ["GRPC_TO_HTTP", "JSON_CONTENT_TYPE", "GrpcCode", "send_status", "status_body"]


JSON_CONTENT_TYPE = b"application/json"


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
