"""The gateway's one gRPC → HTTP table and its google.rpc.Status responses (R-A15)."""

from __future__ import annotations

import json
from typing import Any

from gateway.http_status import GRPC_TO_HTTP, GrpcCode, send_status


def test_table_covers_all_17_codes_as_a15_states() -> None:
    """Every code 0..16 maps, with the pairs R-A15 lists."""
    assert sorted(GRPC_TO_HTTP) == list(range(17))
    by_status: dict[int, set[str]] = {}
    for code, status in GRPC_TO_HTTP.items():
        by_status.setdefault(status, set()).add(GrpcCode(code).name)
    assert by_status == {
        200: {"OK"},
        400: {"INVALID_ARGUMENT", "FAILED_PRECONDITION", "OUT_OF_RANGE"},
        401: {"UNAUTHENTICATED"},
        403: {"PERMISSION_DENIED"},
        404: {"NOT_FOUND"},
        409: {"ALREADY_EXISTS", "ABORTED"},
        429: {"RESOURCE_EXHAUSTED"},
        499: {"CANCELLED"},
        501: {"UNIMPLEMENTED"},
        503: {"UNAVAILABLE"},
        504: {"DEADLINE_EXCEEDED"},
        500: {"INTERNAL", "UNKNOWN", "DATA_LOSS"},
    }


async def test_send_status_writes_complete_status_json() -> None:
    """One start and one final body message: JSON content type, exact length, extra headers."""
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await send_status(send, 429, GrpcCode.RESOURCE_EXHAUSTED, "slow down", [(b"retry-after", b"2")])
    start, body = sent
    assert start["status"] == 429
    headers = dict(start["headers"])
    assert headers[b"content-type"] == b"application/json"
    assert headers[b"retry-after"] == b"2"
    assert int(headers[b"content-length"]) == len(body["body"])
    assert body["more_body"] is False
    assert json.loads(body["body"]) == {"code": 8, "message": "slow down", "details": []}
