"""Writing HTTP responses on an ASGI ``send``: JSON documents, NDJSON lines, problems."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from typing import Any

from gateway.http_status import GRPC_TO_HTTP, send_status
from gateway.problems import GatewayProblem
from meshkit.asgi import Send

Header = tuple[bytes, bytes]

JSON = b"application/json"
NDJSON = b"application/x-ndjson"

_log = logging.getLogger("shopmesh.gateway")


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def encode(document: Any) -> bytes:
    return _ENCODER.encode(document).encode()


async def send_body(
    send: Send, status: int, body: bytes, content_type: bytes = JSON, headers: Sequence[Header] = ()
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def send_status_json(
    send: Send,
    code: int,
    message: str,
    details: Sequence[Any] = (),
    headers: Sequence[Header] = (),
    http_status: int | None = None,
) -> None:
    """A google.rpc.Status JSON error with the HTTP status the shared table gives."""
    status = http_status if http_status is not None else GRPC_TO_HTTP.get(code, 500)
    await send_status(send, status, code, message, headers, details=details)


async def send_problem(send: Send, problem: GatewayProblem) -> None:
    headers = [(k.lower().encode(), v.encode()) for k, v in problem.headers]
    await send_status_json(
        send, problem.grpc_code, problem.message, headers=headers, http_status=problem.http_status
    )


async def send_internal_error(send: Send, exc: BaseException) -> None:
    """500 with an opaque id; the traceback stays in the log."""
    error_id = uuid.uuid4().hex
    _log.error("unhandled gateway error", exc_info=exc, extra={"error_id": error_id})
    await send_status_json(send, 13, f"internal error (error id {error_id})")


async def start_stream(send: Send, headers: Sequence[Header] = ()) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", NDJSON), *headers],
        }
    )


async def send_line(send: Send, document: Any) -> None:
    """One NDJSON line, flushed on its own so a long stream is never buffered (R-A17)."""
    await send({"type": "http.response.body", "body": encode(document) + b"\n", "more_body": True})


async def end_stream(send: Send) -> None:
    await send({"type": "http.response.body", "body": b"", "more_body": False})
