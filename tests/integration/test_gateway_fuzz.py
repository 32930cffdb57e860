"""R-B18: schemathesis drives the gateway from its own /openapi.json: no 5xx, and every
response conforms to the schema it publishes.

The gateway runs with admin routes on and every request carries the admin API key, so
the admin operations are fuzzed as well as the public ones (which are the same
operations in both modes; test_gateway_surface checks what each mode documents).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.integration.gateway_fixture import ADMIN_HEADERS, running_gateway

pytestmark = pytest.mark.slow

# Streams that never end by themselves (a watch) and NDJSON request bodies (which
# schemathesis cannot generate) are covered by test_gateway_transcoding.py instead.
EXAMPLES_PER_OPERATION = 25
EXCLUDED_PATHS = (
    "/v1/orders:watch",
    "/v1/orders/{order_id}/events",
    "/v1/quotes:stream",
    "/v1/stock:restock",
)
FUZZED = {
    "GET /v1/products/{sku}",
    "GET /v1/products",
    "GET /v1/products:batchGet",
    "POST /v1/quotes",
    "GET /v1/stock/{sku}",
    "POST /v1/orders",
    "GET /v1/orders/{order_id}",
    "POST /v1/orders/{order_id}:cancel",
    "POST /v1/charges/{charge_id}:refund",
    "GET /v1/charges/{charge_id}",
    "GET /v1/reservations/{reservation_key}",
}
"""Every routed operation but the excluded ones: public and admin, never internal."""


@pytest.fixture(scope="module")
def live_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The mesh and the gateway on their own event loop in a thread, so schemathesis's
    blocking HTTP client can call them."""
    ready: list[str] = []
    started = threading.Event()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def serve(data_dir: Path) -> None:
        async with running_gateway(data_dir, admin_routes=True) as gateway:
            ready.append(gateway.base_url)
            started.set()
            await stop.wait()

    thread = threading.Thread(
        target=loop.run_until_complete, args=(serve(tmp_path_factory.mktemp("fuzz")),)
    )
    thread.start()
    assert started.wait(30), "gateway did not start"
    yield ready[0]
    loop.call_soon_threadsafe(stop.set)
    thread.join(30)
    loop.close()


def test_gateway_conforms_to_its_own_openapi(live_gateway: str) -> None:
    """Generated requests (valid and invalid) for every operation never get a 5xx, and
    every response matches the published schema for its status."""
    schema = schemathesis.openapi.from_url(f"{live_gateway}/openapi.json")
    # An operation schemathesis cannot load is an error here: unwrap raises on it.
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    checked = [op for op in operations if op.path not in EXCLUDED_PATHS]
    assert {op.label for op in checked} == FUZZED
    statuses: list[int] = []
    for operation in checked:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def call(case: schemathesis.Case[Any]) -> None:
            response = case.call(base_url=live_gateway, timeout=10, headers=ADMIN_HEADERS)
            statuses.append(response.status_code)
            # Every check but "schema-valid data is accepted": the services validate more
            # than a JSON Schema can say (an order needs items, a key, a token), and those
            # answers are 400s with a google.rpc.Status body, as published.
            case.validate_response(response, excluded_checks=[positive_data_acceptance])

        call()
    # The run did real work: many calls, and both successes and rejections among them.
    assert len(statuses) >= 10 * len(checked)
    assert any(code == 200 for code in statuses)
    assert any(400 <= code < 500 for code in statuses)
