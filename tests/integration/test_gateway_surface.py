"""The edge's surface over the real mesh: the gateway routes public RPCs by default, admin
RPCs only with admin routes on and an API key, internal RPCs never (a 404 that reads like
any unknown path); its OpenAPI document lists exactly what it routes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import grpc
import pytest
import pytest_asyncio
import yarl
from shopmesh.payments.v1 import payments_pb2, payments_pb2_grpc

from gateway.config import GatewayConfig
from gateway.edge.config import Credential, EdgeConfig
from gateway.server import build_gateway
from meshkit.runtime.tracing import Tracing
from tests.integration.gateway_fixture import (
    ADMIN_CREDENTIALS,
    ADMIN_HEADERS,
    serving,
    upstream_targets,
)
from tests.integration.mesh_fixture import Mesh, running_mesh

pytestmark = pytest.mark.asyncio(loop_scope="module")

FRONTEND_KEY = "frontend-key-0123456789"
BEARER = "bearer-token-0123456789"
NDJSON = {"content-type": "application/x-ndjson"}
ORDER = {
    "idempotencyKey": "surface-order",
    "customerId": "c-1",
    "items": [{"sku": "SKU-00042", "quantity": 1}],
    "region": "DE",
    "paymentToken": "tok_visa",
}


class CountingInterceptor(grpc.aio.UnaryUnaryClientInterceptor):
    """Counts every unary call the gateway sends upstream."""

    def __init__(self) -> None:
        self.calls = 0

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        self.calls += 1
        return await continuation(details, request)


@dataclass
class Edge:
    url: str
    upstream: CountingInterceptor


@dataclass
class Shop:
    mesh: Mesh
    session: aiohttp.ClientSession
    closed: Edge
    """A gateway as deployed by default: public routes only."""
    admin: Edge
    """Admin routes on, with edge rules that try to open admin routes ("none") or to let
    bearer tokens into them ("bearer"): neither may."""


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shop(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Shop]:
    closed_edge = EdgeConfig(rate_per_s=0.0, api_keys=(Credential("frontend", FRONTEND_KEY),))
    admin_edge = EdgeConfig(
        rate_per_s=0.0,
        auth_routes=(
            ("/v1/charges", "none"),
            ("/v1/orders/", "none"),
            ("/v1/orders:watch", "bearer"),
            ("/v1/stock:restock", "bearer"),
        ),
        api_keys=ADMIN_CREDENTIALS,
        bearer_tokens=(Credential("ops", BEARER),),
    )
    async with running_mesh(tmp_path_factory.mktemp("surface")) as mesh:
        edges = []
        for edge, admin_routes in ((closed_edge, False), (admin_edge, True)):
            config = GatewayConfig(
                upstreams=upstream_targets(mesh), edge=edge, admin_routes=admin_routes
            )
            counter = CountingInterceptor()
            edges.append((build_gateway(config, Tracing([], [counter])), counter))
        (closed, closed_counter), (admin, admin_counter) = edges
        async with (
            serving(closed.app) as closed_url,
            serving(admin.app) as admin_url,
            aiohttp.ClientSession() as session,
        ):
            yield Shop(
                mesh,
                session,
                Edge(closed_url, closed_counter),
                Edge(admin_url, admin_counter),
            )


async def _call(
    shop: Shop, edge: Edge, method: str, path: str, **kwargs: Any
) -> tuple[int, dict[str, str], bytes]:
    # encoded=True: send the path exactly as written.
    url = yarl.URL(edge.url + path, encoded=True)
    async with shop.session.request(method, url, **kwargs) as response:
        headers = {name.lower(): value for name, value in response.headers.items()}
        return response.status, headers, await response.read()


Request = tuple[str, str, dict[str, Any]]
"""(method, path, aiohttp request options)."""

# One request per internal RPC and binding.
INTERNAL: dict[str, Request] = {
    "Charge": (
        "POST",
        "/v1/charges",
        {
            "json": {
                "idempotencyKey": "surface-charge",
                "amount": {"currencyCode": "USD", "amountMinor": "1999"},
                "paymentToken": "tok_visa",
                "reference": "surface",
            }
        },
    ),
    "Reserve": (
        "POST",
        "/v1/reservations",
        {"json": {"reservationKey": "surface-r", "sku": "SKU-00001", "quantity": 1}},
    ),
    "Release": ("POST", "/v1/reservations/surface-r:release", {"json": {}}),
    "BatchReserve": ("POST", "/v1/reservations:batchReserve", {"json": {}}),
    "ReserveStream": (
        "POST",
        "/v1/reservations:stream",
        {
            "data": b'{"reservationKey": "s", "sku": "SKU-00001", "quantity": 1}\n',
            "headers": NDJSON,
        },
    ),
}
ADMIN: dict[str, Request] = {
    "Restock": ("POST", "/v1/stock:restock", {"data": b"", "headers": NDJSON}),
    "GetReservation": ("GET", "/v1/reservations/surface-r", {}),
    "GetCharge": ("GET", "/v1/charges/ch_0123456789abcdef01234567", {}),
    "Refund": ("POST", "/v1/charges/ch_0123456789abcdef01234567:refund", {"json": {}}),
    "WatchOrders": ("GET", "/v1/orders:watch?afterSequence=999999", {}),
    "WatchOrders (events)": ("GET", "/v1/orders/ord_x/events?afterSequence=999999", {}),
}
"""CancelOrder is not here: POST /v1/orders/{id}:cancel reads as GetOrder's path with
another method, see test_unrouted_cancel_reads_as_a_wrong_method_on_get_order."""


def _with_key(options: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    return {**options, "headers": {**options.get("headers", {}), **headers}}


async def _assert_unknown_path(
    shop: Shop, edge: Edge, method: str, path: str, **kwargs: Any
) -> None:
    """The request is a 404 google.rpc.Status, byte for byte what a made-up path gets,
    and nothing reached upstream."""
    before = edge.upstream.calls
    status, headers, body = await _call(shop, edge, method, path, **kwargs)
    _, _, unknown = await _call(shop, edge, method, "/v1/nothing-here", **kwargs)
    assert status == 404, body
    assert headers["content-type"] == "application/json"
    assert json.loads(body)["code"] == grpc.StatusCode.NOT_FOUND.value[0]
    assert body == unknown
    assert "www-authenticate" not in headers
    assert edge.upstream.calls == before


@pytest.mark.parametrize("rpc", list(INTERNAL))
async def test_internal_rpcs_are_not_routed_in_either_mode(shop: Shop, rpc: str) -> None:
    """R-A5: an internal RPC is a 404 like any unknown path, by default and with admin
    routes on, with or without the admin API key (Release with admin routes on: see
    test_unrouted_release_reads_as_a_wrong_method_on_get_reservation)."""
    method, path, options = INTERNAL[rpc]
    edges = (shop.closed,) if rpc == "Release" else (shop.closed, shop.admin)
    for edge in edges:
        await _assert_unknown_path(shop, edge, method, path, **options)
        await _assert_unknown_path(shop, edge, method, path, **_with_key(options, ADMIN_HEADERS))


async def test_an_internal_charge_at_the_edge_takes_no_money(shop: Shop) -> None:
    """POST /v1/charges through either gateway creates no charge under its key."""
    method, path, options = INTERNAL["Charge"]
    for edge in (shop.closed, shop.admin):
        status, _, _ = await _call(shop, edge, method, path, **_with_key(options, ADMIN_HEADERS))
        assert status == 404
    async with grpc.aio.insecure_channel(shop.mesh.address("payments")) as channel:
        stub = payments_pb2_grpc.PaymentsServiceStub(channel)
        lookup = payments_pb2.GetChargeRequest(idempotency_key="surface-charge")
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.GetCharge(lookup, timeout=10)
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize("rpc", list(ADMIN))
async def test_admin_rpcs_are_not_routed_by_default(shop: Shop, rpc: str) -> None:
    """R-A5: without admin routes, an admin RPC is a 404 like any unknown path, even for a
    caller with a valid API key."""
    method, path, options = ADMIN[rpc]
    await _assert_unknown_path(shop, shop.closed, method, path, **options)
    keyed = _with_key(options, {"x-api-key": FRONTEND_KEY})
    await _assert_unknown_path(shop, shop.closed, method, path, **keyed)


async def test_unrouted_cancel_reads_as_a_wrong_method_on_get_order(shop: Shop) -> None:
    """By default POST /v1/orders/{id}:cancel answers exactly as a made-up verb does
    (405: GetOrder's path, read with the id "x:cancel"), revealing nothing."""
    status, headers, body = await _call(shop, shop.closed, "POST", "/v1/orders/x:cancel", json={})
    made_up = await _call(shop, shop.closed, "POST", "/v1/orders/x:frobnicate", json={})
    assert (status, headers["allow"], body) == (made_up[0], made_up[1]["allow"], made_up[2])
    assert (status, headers["allow"]) == (405, "GET")


async def test_unrouted_release_reads_as_a_wrong_method_on_get_reservation(shop: Shop) -> None:
    """With admin routes on, POST /v1/reservations/{key}:release answers exactly as a
    made-up verb does (405: GetReservation's path, read with the key "k:release"), key or
    no key, and nothing reaches upstream."""
    before = shop.admin.upstream.calls
    for headers in ({}, ADMIN_HEADERS):
        release = await _call(
            shop, shop.admin, "POST", "/v1/reservations/k:release", json={}, headers=headers
        )
        made_up = await _call(
            shop, shop.admin, "POST", "/v1/reservations/k:frobnicate", json={}, headers=headers
        )
        assert (release[0], release[1]["allow"], release[2]) == (
            made_up[0],
            made_up[1]["allow"],
            made_up[2],
        )
        assert (release[0], release[1]["allow"]) == (405, "GET")
    assert shop.admin.upstream.calls == before


ADMIN_SPELLINGS = [
    ("GET", "/v1/charges/ch_0123456789abcdef01234567"),
    ("GET", "/v1/%63harges/ch_0123456789abcdef01234567"),  # escaped letter
    ("GET", "/v1/charges/ch%5F0123456789abcdef01234567"),  # escaped underscore
    ("GET", "/v1/charges/a%2Fb"),  # an encoded slash stays in the id
    ("POST", "/v1/orders/ord_x:cancel"),
    ("POST", "/v1/orders/ord_x%3Acancel:cancel"),
    ("GET", "/v1/orders:watch"),
    ("POST", "/v1/stock:restock"),
]


@pytest.mark.parametrize(("method", "path"), ADMIN_SPELLINGS)
async def test_admin_rpcs_need_the_api_key_whatever_the_auth_rules_say(
    shop: Shop, method: str, path: str
) -> None:
    """With admin routes on, every spelling of an admin route is a 401 asking for the
    API key without one, with a wrong one or with a valid bearer token, although the
    edge's rules say "none" (or "bearer") for it; nothing reaches upstream."""
    attempts: list[dict[str, str]] = [
        {},
        {"x-api-key": "not-the-admin-key-0123"},
        {"authorization": f"Bearer {BEARER}"},
    ]
    for headers in attempts:
        before = shop.admin.upstream.calls
        status, answer, body = await _call(shop, shop.admin, method, path, headers=headers)
        assert status == 401, (headers, body)
        assert answer["www-authenticate"].startswith("ApiKey")
        assert json.loads(body)["code"] == grpc.StatusCode.UNAUTHENTICATED.value[0]
        assert shop.admin.upstream.calls == before


async def test_admin_rpcs_answer_with_the_api_key(shop: Shop) -> None:
    """With admin routes on and the key: GetCharge, CancelOrder (which refunds), Restock
    and the watch are transcoded and answer 200."""
    admin = shop.admin
    status, _, body = await _call(shop, admin, "POST", "/v1/orders", json=ORDER)
    assert status == 200, body
    order = json.loads(body)["order"]
    status, _, body = await _call(
        shop, admin, "GET", f"/v1/charges/{order['chargeId']}", headers=ADMIN_HEADERS
    )
    assert (status, json.loads(body)["charge"]["state"]) == (200, "CHARGE_STATE_CAPTURED")
    status, _, body = await _call(
        shop,
        admin,
        "POST",
        f"/v1/orders/{order['orderId']}:cancel",
        json={"reason": "surface"},
        headers=ADMIN_HEADERS,
    )
    assert (status, json.loads(body)["order"]["state"]) == (200, "ORDER_STATE_CANCELLED")
    delivery = b'{"sku": "SKU-00042", "quantity": 3}\n'
    status, _, body = await _call(
        shop, admin, "POST", "/v1/stock:restock", data=delivery, headers=ADMIN_HEADERS | NDJSON
    )
    assert (status, json.loads(body)) == (200, {"deliveries": 1, "unitsAdded": "3"})
    url = f"{admin.url}/v1/orders/{order['orderId']}/events"
    async with shop.session.get(url, headers={**ADMIN_HEADERS, "grpc-timeout": "2S"}) as response:
        assert response.status == 200
        first = json.loads(await response.content.readline())
    assert first["result"]["event"]["orderId"] == order["orderId"]


@pytest.mark.parametrize("edge_name", ["closed", "admin"])
async def test_public_rpcs_answer_without_a_key_in_both_modes(shop: Shop, edge_name: str) -> None:
    """Public RPCs are routed as before, keyless, whether admin routes are on or not."""
    edge = getattr(shop, edge_name)
    status, _, body = await _call(shop, edge, "GET", "/v1/products/SKU-00042")
    assert (status, json.loads(body)["product"]["sku"]) == (200, "SKU-00042")
    status, _, body = await _call(shop, edge, "GET", "/v1/stock/SKU-00042")
    assert status == 200, body
    quote = {"items": [{"sku": "SKU-00042", "quantity": 2}], "region": "DE"}
    status, _, body = await _call(shop, edge, "POST", "/v1/quotes", json=quote)
    assert status == 200, body
    placed = {**ORDER, "idempotencyKey": f"surface-public-{edge_name}"}
    status, _, body = await _call(shop, edge, "POST", "/v1/orders", json=placed)
    assert status == 200, body
    order_id = json.loads(body)["order"]["orderId"]
    status, _, body = await _call(shop, edge, "GET", f"/v1/orders/{order_id}")
    assert (status, json.loads(body)["order"]["orderId"]) == (200, order_id)


PUBLIC_OPERATIONS = {
    ("/v1/products/{sku}", "get"),
    ("/v1/products", "get"),
    ("/v1/products:batchGet", "get"),
    ("/v1/quotes", "post"),
    ("/v1/quotes:stream", "post"),
    ("/v1/stock/{sku}", "get"),
    ("/v1/orders", "post"),
    ("/v1/orders/{order_id}", "get"),
}
ADMIN_OPERATIONS = {
    ("/v1/orders/{order_id}:cancel", "post"),
    ("/v1/orders:watch", "get"),
    ("/v1/orders/{order_id}/events", "get"),
    ("/v1/stock:restock", "post"),
    ("/v1/charges/{charge_id}:refund", "post"),
    ("/v1/charges/{charge_id}", "get"),
    ("/v1/reservations/{reservation_key}", "get"),
}


async def _operations(shop: Shop, edge: Edge) -> dict[tuple[str, str], dict[str, Any]]:
    status, _, body = await _call(shop, edge, "GET", "/openapi.json")
    assert status == 200
    paths = json.loads(body)["paths"]
    return {(path, verb): op for path, item in paths.items() for verb, op in item.items()}


async def test_openapi_lists_exactly_the_routed_operations(shop: Shop) -> None:
    """/openapi.json shows the public operations by default, adds the admin ones (each
    requiring the API key) with admin routes on, and never an internal one."""
    closed = await _operations(shop, shop.closed)
    assert set(closed) == PUBLIC_OPERATIONS
    assert all("security" not in op for op in closed.values())
    admin = await _operations(shop, shop.admin)
    assert set(admin) == PUBLIC_OPERATIONS | ADMIN_OPERATIONS
    for key, operation in admin.items():
        needs_key: list[dict[str, list[str]]] | None = None
        if key in ADMIN_OPERATIONS:
            needs_key = [{"apiKey": []}]
        assert operation.get("security") == needs_key, key
