"""The assembled gateway (edge + docs + transcoder) over the real mesh: rejected requests
never reach upstream, the docs are served from the package, health answers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import grpc
import pytest
import pytest_asyncio

from gateway.config import GatewayConfig
from gateway.edge.config import Credential, EdgeConfig
from gateway.server import build_gateway
from meshkit.runtime.tracing import Tracing
from tests.integration.gateway_fixture import serving, upstream_targets
from tests.integration.mesh_fixture import running_mesh

pytestmark = pytest.mark.asyncio(loop_scope="module")

API_KEY = "k-0123456789abcdef0123"


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
    session: aiohttp.ClientSession
    upstream: CountingInterceptor


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def edge(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Edge]:
    counter = CountingInterceptor()
    edge_config = EdgeConfig(
        max_body_bytes=4096,
        auth_routes=(("/v1/stock", "api_key"),),
        api_keys=(Credential("shop-frontend", API_KEY),),
        rate_per_s=1000.0,
        rate_burst=1000,
    )
    async with running_mesh(tmp_path_factory.mktemp("edge")) as mesh:
        config = GatewayConfig(upstreams=upstream_targets(mesh), edge=edge_config)
        gateway = build_gateway(config, Tracing([], [counter]))
        async with serving(gateway.app) as url, aiohttp.ClientSession() as session:
            yield Edge(url, session, counter)


async def _call(edge: Edge, method: str, path: str, **kwargs: Any) -> tuple[int, bytes]:
    async with edge.session.request(method, edge.url + path, **kwargs) as response:
        return response.status, await response.read()


REJECTED: dict[str, tuple[str, str, dict[str, Any], int]] = {
    "malformed JSON": (
        "POST",
        "/v1/orders",
        {"data": b'{"items": [', "headers": {"content-type": "application/json"}},
        400,
    ),
    "unknown field": ("POST", "/v1/orders", {"json": {"colour": "red"}}, 400),
    "duplicate key": (
        "POST",
        "/v1/orders",
        {"data": b'{"region":"DE","region":"FR"}', "headers": {"content-type": "application/json"}},
        400,
    ),
    "invalid UTF-8": (
        "POST",
        "/v1/orders",
        {"data": b'{"region":"\xff"}', "headers": {"content-type": "application/json"}},
        400,
    ),
    "deep nesting": (
        "POST",
        "/v1/orders",
        {
            "data": b'{"a":' * 200 + b"1" + b"}" * 200,
            "headers": {"content-type": "application/json"},
        },
        400,
    ),
    "oversized body": (
        "POST",
        "/v1/orders",
        {"data": b"{" + b" " * 8000 + b"}", "headers": {"content-type": "application/json"}},
        413,
    ),
    "wrong content type": (
        "POST",
        "/v1/orders",
        {"data": b"{}", "headers": {"content-type": "text/plain"}},
        415,
    ),
    "grpc content type": (
        "POST",
        "/v1/orders",
        {"data": b"\x00", "headers": {"content-type": "application/grpc"}},
        415,
    ),
    "unknown query": ("GET", "/v1/products/SKU-00001?colour=red", {}, 400),
    "no api key": ("GET", "/v1/stock/SKU-99999", {}, 401),
    "wrong api key": (
        "GET",
        "/v1/stock/SKU-99999",
        {"headers": {"x-api-key": "k-wrong-wrong-wrong-wrong"}},
        401,
    ),
}


@pytest.mark.parametrize("case", list(REJECTED))
async def test_rejected_requests_never_reach_upstream(edge: Edge, case: str) -> None:
    """R-A1..A13: each hostile request gets its 4xx JSON body and no upstream call."""
    method, path, kwargs, expected = REJECTED[case]
    before = edge.upstream.calls
    status, body = await _call(edge, method, path, **kwargs)
    assert status == expected
    assert body.startswith(b'{"code":')
    assert API_KEY.encode() not in body
    assert edge.upstream.calls == before


async def test_valid_request_with_api_key_reaches_upstream(edge: Edge) -> None:
    """The same route with the right key is transcoded (a 404 from inventory, not a 401)."""
    before = edge.upstream.calls
    status, _ = await _call(edge, "GET", "/v1/stock/SKU-99999", headers={"x-api-key": API_KEY})
    assert status == 404
    assert edge.upstream.calls == before + 1


async def test_openapi_and_docs_are_served_from_the_package(edge: Edge) -> None:
    """/openapi.json is the 3.1 document and /docs loads Swagger UI assets locally."""
    status, spec = await _call(edge, "GET", "/openapi.json")
    assert status == 200
    assert b'"openapi":"3.1.0"' in spec
    status, page = await _call(edge, "GET", "/docs")
    assert status == 200
    assert b"/docs/assets/swagger-ui-bundle.js" in page
    assert b"http" not in page.split(b"<body>")[1].replace(b"/openapi.json", b"")
    status, script = await _call(edge, "GET", "/docs/assets/swagger-ui-bundle.js")
    assert status == 200
    assert len(script) > 100_000


async def test_healthz_answers_from_the_edge(edge: Edge) -> None:
    """/healthz is the edge's own, answered without an upstream call."""
    before = edge.upstream.calls
    status, body = await _call(edge, "GET", "/healthz")
    assert status == 200
    assert b"SERVING" in body
    assert edge.upstream.calls == before
