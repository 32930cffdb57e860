"""Every shape of annotated RPC through the gateway, against the real services.

The gateway runs with admin routes on, so that the shapes only admin RPCs have (a client
stream, a POST with a custom verb, an endless watch) are routed, and requests to them
carry the admin API key; test_gateway_surface covers what is routed in which mode.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import yarl

from gateway.app import TranscoderConfig
from tests.integration.gateway_fixture import ADMIN_HEADERS, Gateway, running_gateway

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gw(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Gateway]:
    async with running_gateway(tmp_path_factory.mktemp("gateway"), admin_routes=True) as gateway:
        yield gateway


async def _json(gw: Gateway, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
    # encoded=True: send the path exactly as written (no dot-segment clean-up).
    url = yarl.URL(gw.base_url + path, encoded=True)
    async with gw.session.request(method, url, **kwargs) as response:
        return response.status, await response.json(content_type=None)


NDJSON = "application/x-ndjson"
ORDER = {
    "idempotencyKey": "gw-1",
    "customerId": "c-1",
    "items": [{"sku": "SKU-00042", "quantity": 2}],
    "region": "DE",
    "paymentToken": "tok_visa",
}


async def test_get_with_path_variable_returns_the_product(gw: Gateway) -> None:
    """GET /v1/products/{sku} transcodes to GetProduct and renders proto3 JSON."""
    status, body = await _json(gw, "GET", "/v1/products/SKU-00042")
    assert status == 200
    assert body["product"]["sku"] == "SKU-00042"
    assert body["product"]["listPrice"]["currencyCode"] == "USD"


async def test_custom_verb_beats_the_variable_route(gw: Gateway) -> None:
    """GET /v1/products:batchGet reaches BatchGetProducts, repeated query values kept."""
    status, body = await _json(gw, "GET", "/v1/products:batchGet?skus=SKU-00001&skus=SKU-99999")
    assert status == 200
    assert [p["sku"] for p in body["products"]] == ["SKU-00001"]
    assert body["missingSkus"] == ["SKU-99999"]


async def test_post_body_star_places_an_order(gw: Gateway) -> None:
    """POST /v1/orders with the whole message as body confirms an order."""
    status, body = await _json(gw, "POST", "/v1/orders", json=ORDER)
    assert status == 200
    assert body["order"]["state"] == "ORDER_STATE_CONFIRMED"


async def test_domain_error_maps_to_http_status_with_status_details(gw: Gateway) -> None:
    """A NOT_FOUND from the service is a 404 whose body is google.rpc.Status JSON."""
    status, body = await _json(gw, "GET", "/v1/products/SKU-99999")
    assert status == 404
    assert body["code"] == 5
    assert body["details"][0]["@type"] == "type.googleapis.com/google.rpc.ErrorInfo"
    assert body["details"][0]["reason"] == "PRODUCT_NOT_FOUND"


async def test_invalid_argument_is_400_naming_the_field(gw: Gateway) -> None:
    """A malformed SKU is a 400 with a BadRequest detail naming the field."""
    status, body = await _json(gw, "GET", "/v1/products/nope")
    assert status == 400
    violations = next(d for d in body["details"] if d["@type"].endswith("BadRequest"))
    assert violations["fieldViolations"][0]["field"] == "sku"


async def test_server_stream_is_ndjson_one_result_per_line(gw: Gateway) -> None:
    """ListProducts streams as NDJSON, one {"result": ...} object per product."""
    async with gw.session.get(gw.base_url + "/v1/products?limit=3&category=books") as response:
        assert response.status == 200
        assert response.headers["content-type"] == "application/x-ndjson"
        lines = [json.loads(line) for line in (await response.read()).splitlines()]
    assert len(lines) == 3
    assert all(line["result"]["product"]["category"] == "books" for line in lines)


async def test_error_before_the_first_message_is_a_proper_status(gw: Gateway) -> None:
    """R-A16: a stream that fails before its first message answers with the error status."""
    status, body = await _json(gw, "GET", "/v1/products?limit=-1")
    assert status == 400
    assert body["code"] == 3


async def test_empty_stream_is_an_empty_200(gw: Gateway) -> None:
    """R-A16: a stream with no messages is a 200 with an empty NDJSON body."""
    async with gw.session.get(gw.base_url + "/v1/products?category=nothing") as response:
        assert response.status == 200
        assert await response.read() == b""


async def test_bidi_stream_over_ndjson_answers_each_line(gw: Gateway) -> None:
    """QuoteStream takes NDJSON lines and answers one NDJSON result per line."""
    lines = [
        {"lineId": "a", "item": {"sku": "SKU-00001", "quantity": 1}, "region": "DE"},
        {"lineId": "b", "item": {"sku": "SKU-00002", "quantity": 3}, "region": "DE"},
    ]
    body = "\n".join(json.dumps(line) for line in lines).encode()
    async with gw.session.post(
        gw.base_url + "/v1/quotes:stream",
        data=body,
        headers={"content-type": "application/x-ndjson"},
    ) as response:
        assert response.status == 200
        replies = [json.loads(line) for line in (await response.read()).splitlines()]
    assert [r["result"]["lineId"] for r in replies] == ["a", "b"]


async def test_client_stream_over_ndjson_answers_once(gw: Gateway) -> None:
    """Restock reads NDJSON deliveries and answers one JSON document."""
    body = b'{"sku": "SKU-00010", "quantity": 2}\n{"sku": "SKU-00011", "quantity": 3}\n'
    status, reply = await _json(
        gw,
        "POST",
        "/v1/stock:restock",
        data=body,
        headers={**ADMIN_HEADERS, "content-type": NDJSON},
    )
    assert status == 200
    assert reply == {"deliveries": 2, "unitsAdded": "5"}


async def test_bad_line_in_a_client_stream_is_a_400_naming_it(gw: Gateway) -> None:
    """A malformed NDJSON line fails the call with a 400 about that line."""
    body = b'{"sku": "SKU-00010", "quantity": 2}\n{"sku": "SKU-00011", "qty": 3}\n'
    status, reply = await _json(
        gw,
        "POST",
        "/v1/stock:restock",
        data=body,
        headers={**ADMIN_HEADERS, "content-type": NDJSON},
    )
    assert status == 400
    assert "qty" in reply["message"]


async def test_custom_verb_post_with_path_variable(gw: Gateway) -> None:
    """POST /v1/orders/{order_id}:cancel binds the id from the path and the rest from body."""
    _, placed = await _json(gw, "POST", "/v1/orders", json={**ORDER, "idempotencyKey": "gw-c"})
    order_id = placed["order"]["orderId"]
    status, body = await _json(
        gw,
        "POST",
        f"/v1/orders/{order_id}:cancel",
        json={"reason": "changed mind"},
        headers=ADMIN_HEADERS,
    )
    assert status == 200
    assert body["order"]["state"] == "ORDER_STATE_CANCELLED"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/v1/nothing", 404),  # R-A5 unknown path
        ("PUT", "/v1/products/SKU-00001", 405),  # R-A5 wrong method
        ("GET", "/v1/products/SKU-00001?colour=red", 400),  # R-A4 unknown query parameter
        ("GET", "/v1//products", 400),  # R-B20 empty segment
        ("GET", "/v1/products/%2e%2e/orders", 400),  # R-B20 encoded dot-dot
        ("GET", "/v1/products/a%00b", 400),  # R-B20 NUL
    ],
)
async def test_bad_paths_and_methods_get_json_errors(
    gw: Gateway, method: str, path: str, status: int
) -> None:
    """Unknown paths, wrong methods and crafted paths get the right status and JSON body."""
    got, body = await _json(gw, method, path)
    assert got == status
    assert isinstance(body["code"], int)
    assert body["message"]


async def test_stream_failing_after_messages_ends_with_an_error_line(gw: Gateway) -> None:
    """R-A16: a stream that fails after k messages keeps them and ends with {"error": ...}."""
    await _json(gw, "POST", "/v1/orders", json={**ORDER, "idempotencyKey": "gw-watch"})
    async with gw.session.get(
        gw.base_url + "/v1/orders:watch", headers={**ADMIN_HEADERS, "grpc-timeout": "500m"}
    ) as response:
        assert response.status == 200
        lines = [json.loads(line) for line in (await response.read()).splitlines()]
    assert len(lines) >= 2
    assert all("result" in line for line in lines[:-1])
    assert lines[-1]["error"]["code"] == 4  # DEADLINE_EXCEEDED: the watch never ends


async def test_response_over_the_limit_is_502_not_a_truncated_200(tmp_path: Path) -> None:
    """R-A10: an upstream reply rendered larger than the limit is a 502 JSON error."""
    small = TranscoderConfig(max_response_bytes=300)
    async with running_gateway(tmp_path, transcoder=small) as gateway:
        skus = "&".join(f"skus=SKU-{n:05d}" for n in range(1, 20))
        async with gateway.session.get(f"{gateway.base_url}/v1/products:batchGet?{skus}") as r:
            assert r.status == 502
            body = await r.json()
        assert body["code"] == 13
        async with gateway.session.get(f"{gateway.base_url}/v1/products/SKU-00001") as r:
            assert r.status == 200  # a small reply still passes


async def test_stream_lines_arrive_while_the_stream_is_still_open(gw: Gateway) -> None:
    """R-A17: each message is flushed as it comes (nothing waits for the stream's end):
    a live watch delivers an order's events while the upstream stream stays open."""
    await _json(gw, "POST", "/v1/orders", json={**ORDER, "idempotencyKey": "gw-live-0"})
    async with gw.session.get(
        gw.base_url + "/v1/orders:watch", headers={**ADMIN_HEADERS, "grpc-timeout": "300m"}
    ) as response:
        history = [json.loads(line) for line in (await response.read()).splitlines()]
    last = int(history[-2]["result"]["event"]["sequence"])  # the final line is the deadline
    async with gw.session.get(
        f"{gw.base_url}/v1/orders:watch?afterSequence={last}",
        headers={**ADMIN_HEADERS, "grpc-timeout": "20S"},
    ) as response:
        assert response.status == 200  # headers come before any event (first-message wait)
        await _json(gw, "POST", "/v1/orders", json={**ORDER, "idempotencyKey": "gw-live-1"})
        async with asyncio.timeout(5):
            first = json.loads(await response.content.readline())
        assert first["result"]["event"]["type"] == "ORDER_EVENT_TYPE_CREATED"


async def test_client_leaving_a_stream_is_quiet_and_cancels_upstream(
    gw: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    """R-E40: a client that hangs up on a live watch ends it without an error logged."""
    async with gw.session.get(
        gw.base_url + "/v1/orders:watch?afterSequence=999999",
        headers={**ADMIN_HEADERS, "grpc-timeout": "20S"},
    ) as response:
        assert response.status == 200
    await asyncio.sleep(0.5)  # give the gateway time to notice the hang-up
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert errors == [], [r.getMessage() for r in errors]


async def test_drain_ends_open_streams_with_a_reconnect_line(tmp_path: Path) -> None:
    """R-F49: when the drain grace is over, a live stream ends with an UNAVAILABLE line
    telling the client to reconnect, instead of holding the shutdown grace."""
    async with running_gateway(tmp_path, admin_routes=True) as gateway:
        async with gateway.session.get(
            gateway.base_url + "/v1/orders:watch", headers={**ADMIN_HEADERS, "grpc-timeout": "20S"}
        ) as response:
            assert response.status == 200
            gateway.drain.close_streams()
            async with asyncio.timeout(5):
                lines = [json.loads(line) for line in (await response.read()).splitlines()]
        assert lines[-1]["error"]["code"] == 14
