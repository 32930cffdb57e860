"""The REST baseline's boundary: bad input is a 4xx JSON status (never a 500), errors
match the gateway's, deadlines travel in ``x-request-timeout-ms``, lost connections are
retried, and ``SHOPMESH_REST_NEW_CONNECTION`` really opens one connection per request."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gateway.edge.config import EdgeConfig
from meshkit.runtime.config import RestClientConfig
from meshkit.runtime.rest.host import RestParts
from meshkit.runtime.rest.request import RestRequest
from meshkit.runtime.rest.router import Route
from meshkit.storage.config import StorageConfig
from services.catalog.app import build_rest as build_catalog
from services.orders.app import build_rest as build_orders
from services.orders.config import OrdersConfig
from services.payments.domain import FailurePolicy
from tests.conftest import TEST_RUNTIME, running_rest_host
from tests.integration.gateway_fixture import running_gateway
from tests.integration.mesh_fixture import PRODUCT_COUNT, running_mesh

ORDER = {
    "customerId": "c",
    "items": [{"sku": "SKU-00005", "quantity": 1}],
    "region": "DE",
    "paymentToken": "tok_visa",
}


async def _post(
    session: aiohttp.ClientSession, url: str, body: Any, **headers: str
) -> tuple[int, dict[str, Any], float]:
    started = time.monotonic()
    data = body if isinstance(body, bytes) else None
    async with session.post(
        url,
        json=None if data is not None else body,
        data=data,
        headers={"content-type": "application/json", **headers},
        timeout=aiohttp.ClientTimeout(total=10),
    ) as reply:
        return reply.status, await reply.json(), time.monotonic() - started


BAD_REQUESTS: list[tuple[str, str, bytes, dict[str, str], int, str]] = [
    ("malformed", "POST", b'{"skus": [', {}, 400, "MALFORMED_JSON"),
    ("not utf-8", "POST", b'{"skus": ["\xff"]}', {}, 400, "MALFORMED_JSON"),
    ("unknown field", "POST", b'{"skus": [], "sku": "x"}', {}, 400, "UNKNOWN_FIELD"),
    ("wrong type", "POST", b'{"skus": "SKU-00001"}', {}, 400, "INVALID_ARGUMENT"),
    ("not an object", "POST", b"[1]", {}, 400, "INVALID_ARGUMENT"),
    ("oversized", "POST", b'{"skus": ["' + b"A" * 70_000 + b'"]}', {}, 413, "BODY_TOO_LARGE"),
    ("text body", "POST", b"{}", {"content-type": "text/plain"}, 415, "UNSUPPORTED_MEDIA_TYPE"),
    ("bad timeout", "POST", b'{"skus": []}', {"x-request-timeout-ms": "soon"}, 400, "BAD_TIMEOUT"),
    ("wrong method", "DELETE", b"", {}, 405, "METHOD_NOT_ALLOWED"),
]


@pytest.fixture
async def catalog_url() -> AsyncIterator[str]:
    config = replace(TEST_RUNTIME, service_name="catalog", max_message_bytes=64 * 1024)
    async with running_rest_host(build_catalog(PRODUCT_COUNT), config) as host:
        yield f"http://127.0.0.1:{host.rest_port}"


@pytest.mark.parametrize("case", BAD_REQUESTS, ids=lambda c: c[0])
async def test_bad_input_is_a_4xx_status_json_never_a_500(
    catalog_url: str, case: tuple[str, str, bytes, dict[str, str], int, str]
) -> None:
    """Malformed, unknown, mistyped, oversized or mis-typed input gets its 4xx and a
    google.rpc.Status body naming the problem; nothing leaks a traceback."""
    _, method, body, headers, status, reason = case
    async with (
        aiohttp.ClientSession() as session,
        session.request(
            method,
            catalog_url + "/v1/products/lookup",
            data=body,
            headers={"content-type": "application/json", **headers},
        ) as reply,
    ):
        text = await reply.text()
        document = await reply.json(content_type=None)
    assert reply.status == status, text
    assert reply.headers["content-type"] == "application/json"
    assert set(document) == {"code", "message", "details"}
    assert document["details"][0]["reason"] == reason
    assert "Traceback" not in text
    if status == 405:
        assert reply.headers["allow"] == "GET, POST"  # GET: a product called "lookup"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        (b"/v1/nothing", 404),
        (b"/v1/products/%ff", 400),
        (b"/v1/products?limit=-1", 400),
        (b"/v1/products?color=red", 400),
        (b"/v1/products/SKU-99999", 404),
    ],
)
async def test_bad_paths_and_queries_are_4xx_status_json(
    catalog_url: str, path: bytes, status: int
) -> None:
    """Unknown routes, undecodable segments and unknown or malformed parameters are refused."""
    host, port = catalog_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"GET " + path + b" HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    async with asyncio.timeout(5):
        raw = await reader.read()
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == str(status).encode(), raw
    assert b'"code":' in body


async def test_rest_errors_are_the_gateways_errors(tmp_path: Path) -> None:
    """The same bad order gets the same HTTP status and the same JSON body from the REST
    baseline's orders service as from the gateway in front of the gRPC mesh."""
    bad_orders = [
        {**ORDER, "items": [{"sku": "SKU-00005", "quantity": 0}]},
        {**ORDER, "items": [{"sku": "sku 5", "quantity": 1}]},
        {**ORDER, "region": "de"},
        {**ORDER, "items": []},
    ]
    edge = EdgeConfig(rate_per_s=0.0)
    async with (
        running_gateway(tmp_path / "grpc", edge) as gateway,
        running_mesh(tmp_path / "rest", transport="rest") as rest,
    ):
        for index, order in enumerate(bad_orders):
            key = f"k-bad-{index}"
            via_gateway = await _post(
                gateway.session, gateway.base_url + "/v1/orders", {**order, "idempotencyKey": key}
            )
            via_rest = await _post(
                gateway.session,
                rest.url("orders") + "/v1/orders",
                order,
                **{"idempotency-key": key},
            )
            assert via_rest[:2] == via_gateway[:2]
            assert via_rest[0] == 400


async def test_a_client_deadline_travels_and_cancels_the_slow_hop(tmp_path: Path) -> None:
    """R-D32 over REST: a 1 s x-request-timeout-ms fails PlaceOrder with 504 at ~1 s and the
    hop below, still working, is cancelled; no stock stays held."""
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def never_quotes(request: RestRequest) -> dict[str, Any]:
        started.set()
        try:
            await asyncio.sleep(30)
        finally:
            cancelled.set()
        return {}

    def slow_pricing(clients: object) -> RestParts:
        return RestParts(routes=[Route("POST", "/v1/quotes", never_quotes)])

    async with (
        running_mesh(
            tmp_path, transport="rest", rest_replace_with={"pricing": slow_pricing}
        ) as mesh,
        aiohttp.ClientSession() as session,
    ):
        stock_url = mesh.url("inventory") + "/v1/stock/SKU-00005"
        async with session.get(stock_url) as reply:
            before = await reply.json()
        status, document, elapsed = await _post(
            session,
            mesh.url("orders") + "/v1/orders",
            ORDER,
            **{"idempotency-key": "k-deadline", "x-request-timeout-ms": "1000"},
        )
        assert (status, document["code"]) == (504, 4)
        assert 0.9 < elapsed < 2.0
        assert started.is_set()
        await asyncio.wait_for(cancelled.wait(), 2)
        async with session.get(stock_url) as reply:
            assert await reply.json() == before


async def test_an_unavailable_charge_is_retried_transparently(tmp_path: Path) -> None:
    """R-D34 over REST: one 503 from payments is retried and the order confirms."""
    async with (
        running_mesh(tmp_path, FailurePolicy(unavailable_every=2), transport="rest") as mesh,
        aiohttp.ClientSession() as session,
    ):
        url = mesh.url("orders") + "/v1/orders"
        first = await _post(session, url, ORDER, **{"idempotency-key": "k-1"})
        second = await _post(session, url, ORDER, **{"idempotency-key": "k-2"})
        async with session.get(mesh.url("payments") + "/metrics") as reply:
            charges = (await reply.json())["methods"]["POST /v1/charges"]
    assert [first[1]["state"], second[1]["state"]] == ["CONFIRMED", "CONFIRMED"]
    assert charges == {"calls": 3, "messages_in": 3, "messages_out": 2}


async def test_a_dependency_that_is_down_fails_fast_with_503_after_retries(
    tmp_path: Path,
) -> None:
    """Connection refused is retried (3 attempts) and then reported as UNAVAILABLE (503)
    well before the deadline, with the order failed at its first step."""
    closed = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = closed.sockets[0].getsockname()[1]
    closed.close()
    await closed.wait_closed()
    config = replace(
        TEST_RUNTIME,
        service_name="orders",
        dependencies=dict.fromkeys(
            ("catalog", "pricing", "inventory", "payments"), f"127.0.0.1:{port}"
        ),
    )
    build = build_orders(OrdersConfig(StorageConfig(data_dir=tmp_path)))
    async with running_rest_host(build, config) as host, aiohttp.ClientSession() as session:
        status, document, elapsed = await _post(
            session,
            f"http://127.0.0.1:{host.rest_port}/v1/orders",
            ORDER,
            **{"idempotency-key": "k-down"},
        )
    assert (status, document["code"]) == (503, 14)
    assert elapsed < 1.5


class _CountingProxy:
    """A TCP relay in front of a service that counts the connections it accepts."""

    def __init__(self, target_port: int) -> None:
        self._target_port = target_port
        self.accepted = 0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> _CountingProxy:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self._target_port)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        for task in (
            asyncio.create_task(pipe(reader, up_writer)),
            asyncio.create_task(pipe(up_reader, writer)),
        ):
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)


@pytest.mark.parametrize(("new_connection", "connections"), [(False, 1), (True, 6)])
async def test_pooled_clients_reuse_one_connection_and_new_connection_mode_opens_one_each(
    tmp_path: Path, new_connection: bool, connections: int
) -> None:
    """Two sequential orders of 3 items each make 6 catalog lookups: over 1 pooled
    keep-alive connection by default, over 6 fresh TCP connections in new-connection mode
    (counted by a relay that accepts them)."""
    items = [{"sku": f"SKU-0012{i}", "quantity": 1} for i in range(3)]
    async with (
        running_mesh(tmp_path, transport="rest") as mesh,
        _CountingProxy(int(mesh.address("catalog").split(":")[1])) as proxy,
    ):
        dependencies = {name: mesh.address(name) for name in ("pricing", "inventory", "payments")}
        config = replace(
            TEST_RUNTIME,
            service_name="orders",
            dependencies={**dependencies, "catalog": f"127.0.0.1:{proxy.port}"},
            rest_client=RestClientConfig(new_connection_per_request=new_connection),
        )
        build = build_orders(OrdersConfig(StorageConfig(data_dir=tmp_path / "second")))
        async with running_rest_host(build, config) as orders, aiohttp.ClientSession() as session:
            for key in ("k-a", "k-b"):
                status, document, _ = await _post(
                    session,
                    f"http://127.0.0.1:{orders.rest_port}/v1/orders",
                    {**ORDER, "items": items},
                    **{"idempotency-key": key},
                )
                assert (status, document["state"]) == (200, "CONFIRMED")
    if new_connection:
        assert proxy.accepted == connections
    else:
        # Three lookups go out at once, so the pool opens up to three; the second order
        # reuses them: never one per request.
        assert 1 <= proxy.accepted <= 3


async def test_unknown_paths_are_counted_under_one_name(catalog_url: str) -> None:
    """Requests that match no route share one counter, so junk paths cannot grow /metrics."""
    async with aiohttp.ClientSession() as session:
        for path in ("/a", "/b/c", "/v1/nothing/%20"):
            async with session.get(catalog_url + path) as reply:
                assert reply.status == 404
        async with session.get(catalog_url + "/metrics") as reply:
            methods = (await reply.json())["methods"]
    assert methods == {"(no route)": {"calls": 3, "messages_in": 3, "messages_out": 0}}
