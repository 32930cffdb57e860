"""Every curl example the runner prints for the gateway works against the seeded shop.

The requests are sent with aiohttp from the example table (method, path, content type,
body bytes), the same fields ``runner.table.curl_command`` renders; that those
become the same curl arguments in bash is checked in tests/unit/test_mesh_gateway.py.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from meshkit.examples import DOCS_PATH, CurlExample, load_examples
from meshkit.probes import LIVENESS_PATH
from tests.integration.gateway_fixture import Gateway, running_gateway

REQUEST_TIMEOUT_S = 10.0

# One gateway over one mesh for the whole module: the examples only read or add their own data.
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gateway(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Gateway]:
    async with running_gateway(tmp_path_factory.mktemp("curl-examples")) as running:
        yield running


async def _send(gateway: Gateway, example: CurlExample) -> tuple[int, list[Any]]:
    """The example's request; its status and JSON documents (one per NDJSON line)."""
    headers = {} if example.content_type is None else {"content-type": example.content_type}
    data = None if example.data is None else example.data.encode()
    async with asyncio.timeout(REQUEST_TIMEOUT_S):
        async with gateway.session.request(
            example.method, gateway.base_url + example.path, data=data, headers=headers
        ) as response:
            text = await response.text()
    lines = text.splitlines() if example.streams else [text]
    return response.status, [json.loads(line) for line in lines]


@pytest.mark.parametrize("example", load_examples().gateway, ids=lambda e: f"{e.method} {e.path}")
async def test_every_curl_example_the_runner_prints_works(
    gateway: Gateway, example: CurlExample
) -> None:
    """Each printed request answers 200 with JSON, or with NDJSON lines that all carry a
    result, from a gateway as the runner starts it: public routes only."""
    status, documents = await _send(gateway, example)
    assert status == 200, documents
    assert documents
    if example.streams:
        assert all(set(line) == {"result"} for line in documents), documents
    if isinstance(example.body, tuple):  # a bidi stream answers each request line
        assert len(documents) == len(example.body)


async def test_printed_healthz_and_docs_urls_answer(gateway: Gateway) -> None:
    """The /healthz the runner polls and prints answers SERVING; the /docs URL is a page."""
    async with asyncio.timeout(REQUEST_TIMEOUT_S):
        async with gateway.session.get(gateway.base_url + LIVENESS_PATH) as response:
            assert response.status == 200
            assert await response.json() == {"status": "SERVING"}
        async with gateway.session.get(gateway.base_url + DOCS_PATH) as response:
            assert response.status == 200
            assert response.content_type == "text/html"
