"""The Go services' REST/JSON twins (SHOPMESH_TRANSPORT=rest) answer as the Python ones:
the same requests, good and hostile (unknown fields, wrong types, bad JSON, wrong media
type, oversized bodies, bad deadlines, unknown routes and methods), give the same HTTP
status, headers and JSON documents from both implementations."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from meshkit.manifest import GO, PYTHON
from tests.integration.implementations import IMPLEMENTATIONS, running_service

pytestmark = pytest.mark.slow
MAX_BODY = 4096
JSON = {"content-type": "application/json"}

Request = tuple[str, str, Any, dict[str, str]]
"""(method, path, body: JSON-able, raw bytes or None, headers)."""

PRICING: dict[str, Request] = {
    "quote": (
        "POST",
        "/v1/quotes",
        {"items": [{"sku": "SKU-00003", "quantity": 12}], "region": "US", "promoCode": "WELCOME10"},
        JSON,
    ),
    "bad fields": (
        "POST",
        "/v1/quotes",
        {"items": [{"sku": "x", "quantity": 0}], "region": "ZZ"},
        JSON,
    ),
    "unknown fields": (
        "POST",
        "/v1/quotes",
        {
            "items": [{"sku": "SKU-00001", "quantity": 1, "colour": 1}],
            "region": "DE",
            "zz": 1,
            "aa": 2,
        },
        JSON,
    ),
    "string quantity": (
        "POST",
        "/v1/quotes",
        {"items": [{"sku": "SKU-00001", "quantity": "1"}], "region": "DE"},
        JSON,
    ),
    "float quantity": (
        "POST",
        "/v1/quotes",
        {"items": [{"sku": "SKU-00001", "quantity": 1.0}], "region": "DE"},
        JSON,
    ),
    "bool quantity": (
        "POST",
        "/v1/quotes",
        {"items": [{"sku": "SKU-00001", "quantity": True}], "region": "DE"},
        JSON,
    ),
    "null fields": (
        "POST",
        "/v1/quotes",
        {"items": [{"sku": "SKU-00001", "quantity": None}], "region": None},
        JSON,
    ),
    "items not a list": (
        "POST",
        "/v1/quotes",
        {"items": {"sku": "SKU-00001"}, "region": "DE"},
        JSON,
    ),
    "item not an object": ("POST", "/v1/quotes", {"items": [1], "region": "DE"}, JSON),
    "body a list": ("POST", "/v1/quotes", [], JSON),
    "empty body": ("POST", "/v1/quotes", b"  ", JSON),
    "malformed json": ("POST", "/v1/quotes", b'{"items": [', JSON),
    "not utf-8": ("POST", "/v1/quotes", b'{"region": "\xff"}', JSON),
    "wrong media type": ("POST", "/v1/quotes", b"{}", {"content-type": "text/plain"}),
    "no media type": ("POST", "/v1/quotes", b"{}", {}),
    "too large": ("POST", "/v1/quotes", b"{" + b" " * MAX_BODY + b"}", JSON),
    "bad timeout": ("POST", "/v1/quotes", {}, {**JSON, "x-request-timeout-ms": "soon"}),
    "long timeout": ("POST", "/v1/quotes", {}, {**JSON, "x-request-timeout-ms": "1234567890"}),
    "wrong method": ("GET", "/v1/quotes", None, {}),
    "no route": ("GET", "/v1/nope", None, {}),
    "liveness": ("GET", "/healthz", None, {}),
    "readiness": ("GET", "/readyz?full=1", None, {}),
    "probe method": ("POST", "/healthz", None, {}),
}

INVENTORY: dict[str, Request] = {
    "stock": ("GET", "/v1/stock/SKU-00001", None, {}),
    "stock encoded": ("GET", "/v1/stock/SKU-0000%31", None, {}),
    "stock slash": ("GET", "/v1/stock/SKU%2F1", None, {}),
    "stock bad utf-8": ("GET", "/v1/stock/%ff", None, {}),
    "stock unknown": ("GET", "/v1/stock/SKU-99999", None, {}),
    "reserve": (
        "POST",
        "/v1/reservations",
        {"reservationKey": "r1", "sku": "SKU-00001", "quantity": 2},
        JSON,
    ),
    "reserve replay": (
        "POST",
        "/v1/reservations",
        {"reservationKey": "r1", "sku": "SKU-00001", "quantity": 2},
        JSON,
    ),
    "reserve reused": (
        "POST",
        "/v1/reservations",
        {"reservationKey": "r1", "sku": "SKU-00002", "quantity": 2},
        JSON,
    ),
    "reserve short": (
        "POST",
        "/v1/reservations",
        {"reservationKey": "r2", "sku": "SKU-00001", "quantity": 9999},
        JSON,
    ),
    "reserve huge number": (
        "POST",
        "/v1/reservations",
        {"reservationKey": "r3", "sku": "SKU-00001", "quantity": 10**15},
        JSON,
    ),
    "batch": (
        "POST",
        "/v1/reservations/batch",
        {
            "reservations": [
                {"reservationKey": "b1", "sku": "SKU-00002", "quantity": 1},
                {"reservationKey": "b2", "sku": "nope", "quantity": 1},
            ]
        },
        JSON,
    ),
    "batch over limit": (
        "POST",
        "/v1/reservations/batch",
        {
            "reservations": [
                {"reservationKey": f"o{n}", "sku": "SKU-00002", "quantity": 1} for n in range(1001)
            ]
        },
        {**JSON},
    ),
    "get reservation": ("GET", "/v1/reservations/r1", None, {}),
    "get reservation encoded slash": ("GET", "/v1/reservations/ord_x%2F0", None, {}),
    "get reservation unknown": ("GET", "/v1/reservations/nope%20x", None, {}),
    "get reservation batch": ("GET", "/v1/reservations/batch", None, {}),
    "get reservation wrong method": ("PUT", "/v1/reservations/r1", None, {}),
    "release": ("POST", "/v1/reservations/r1/release", None, {}),
    "release empty object": ("POST", "/v1/reservations/r1/release", {}, JSON),
    "release with field": ("POST", "/v1/reservations/r1/release", {"why": "x"}, JSON),
    "release unknown": ("POST", "/v1/reservations/nope%20x/release", None, {}),
    "release wrong method": ("GET", "/v1/reservations/r1/release", None, {}),
    "get reservation released": ("GET", "/v1/reservations/r1", None, {}),
    "restock": (
        "POST",
        "/v1/stock/restock",
        {"deliveries": [{"sku": "SKU-00003", "quantity": 4}, {"sku": "SKU-00003", "quantity": 1}]},
        JSON,
    ),
    "restock bad": (
        "POST",
        "/v1/stock/restock",
        {"deliveries": [{"sku": "SKU-00003", "quantity": 4}, {"sku": "SKU-99999", "quantity": 1}]},
        JSON,
    ),
    "stock after": ("GET", "/v1/stock/SKU-00003", None, {}),
}


def _normalised(document: Any) -> Any:
    """The document with what legitimately differs left out: creation times, and the
    JSON parser's own wording of a syntax error."""
    if isinstance(document, dict):
        if any(
            isinstance(d, dict) and d.get("reason") == "MALFORMED_JSON"
            for d in document.get("details", [])
        ):
            return {**document, "message": "(parser's own text)"}
        return {k: bool(v) if k == "createTime" else _normalised(v) for k, v in document.items()}
    if isinstance(document, list):
        return [_normalised(item) for item in document]
    return document


async def _send(session: aiohttp.ClientSession, base: str, request: Request) -> dict[str, Any]:
    method, path, body, headers = request
    data = (
        body if isinstance(body, bytes) or body is None else __import__("json").dumps(body).encode()
    )
    async with session.request(
        method, base + path, data=data, headers=headers, skip_auto_headers=("Content-Type",)
    ) as response:
        raw = await response.read()
        document = (
            None if method == "HEAD" else await response.json(content_type=None) if raw else None
        )
        kept = {
            h: response.headers[h]
            for h in ("Content-Type", "Allow", "Retry-After")
            if h in response.headers
        }
        return {"status": response.status, "headers": kept, "body": _normalised(document)}


async def _answers(
    service: str, cases: dict[str, Request], tmp_path: Path
) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for impl in IMPLEMENTATIONS:
        env = {
            "SHOPMESH_MAX_MESSAGE_BYTES": str(
                MAX_BODY * 100 if service == "inventory" else MAX_BODY
            )
        }
        async with (
            running_service(service, impl, tmp_path / impl, env, transport="rest") as running,
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session,
        ):
            found[impl] = {
                name: await _send(session, running.rest_url, case) for name, case in cases.items()
            }
    return found


@pytest.fixture(scope="module")
def answers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, dict[str, Any]]]:
    """Every REST case's answer from each implementation of each service."""
    directory = tmp_path_factory.mktemp("rest")
    pricing = asyncio.run(_answers("pricing", PRICING, directory / "pricing"))
    inventory = asyncio.run(_answers("inventory", INVENTORY, directory / "inventory"))
    return {impl: {**pricing[impl], **inventory[impl]} for impl in IMPLEMENTATIONS}


@pytest.mark.parametrize("case", [*PRICING, *INVENTORY])
def test_go_rest_twin_answers_as_python_does(
    answers: dict[str, dict[str, dict[str, Any]]], case: str
) -> None:
    """The Go REST twin's status, headers and JSON document for the request are the
    Python twin's."""
    assert answers[GO][case] == answers[PYTHON][case]


def test_rest_cases_cover_every_answer(answers: dict[str, dict[str, dict[str, Any]]]) -> None:
    """The compared answers span success and every HTTP failure the twins produce, so
    equality is not between uniform results."""
    statuses = {answer["status"] for answer in answers[PYTHON].values()}
    assert {200, 400, 404, 405, 413, 415} <= statuses
    assert answers[PYTHON]["quote"]["body"]["lines"][0]["appliedRules"]
    assert answers[PYTHON]["wrong method"]["headers"]["Allow"] == "POST"
    inventory = answers[PYTHON]
    assert inventory["get reservation"]["body"]["state"] == "HELD"
    assert inventory["get reservation released"]["body"]["state"] == "RELEASED"
    assert inventory["get reservation unknown"]["status"] == 404
