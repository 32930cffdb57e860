"""The server boundary: error mapping, deadlines and streams, on a real grpc.aio server."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from shopmesh.catalog.v1 import catalog_pb2, catalog_pb2_grpc

from meshkit.errors import FieldViolation, InvalidArgument, NotFound
from meshkit.runtime import error_mapping
from meshkit.runtime.channels import Channels
from meshkit.runtime.deadlines import current_scope
from meshkit.runtime.server import Registration, ServiceParts
from services.catalog.app import build as build_catalog
from tests.conftest import running_host

CATALOG = catalog_pb2.DESCRIPTOR.services_by_name["CatalogService"].full_name


class MisbehavingCatalog(catalog_pb2_grpc.CatalogServiceServicer):
    """A catalog whose answers are chosen by the SKU asked for."""

    def __init__(self) -> None:
        self.started = 0
        self.seen_deadline: float | None = None

    async def GetProduct(  # noqa: N802
        self, request: catalog_pb2.GetProductRequest, context: Any
    ) -> catalog_pb2.GetProductResponse:
        self.started += 1
        scope = current_scope()
        self.seen_deadline = scope.deadline if scope else None
        if request.sku == "missing":
            raise NotFound(
                message="no product missing",
                reason="PRODUCT_NOT_FOUND",
                resource_type="product",
                resource_name="missing",
            )
        if request.sku == "bad":
            raise InvalidArgument.of(FieldViolation("sku", "must look like SKU-00001"))
        if request.sku == "boom":
            raise RuntimeError("secret internals")
        if request.sku == "slow":
            await asyncio.sleep(30)
        return catalog_pb2.GetProductResponse(product=catalog_pb2.Product(sku=request.sku))

    async def ListProducts(  # noqa: N802
        self, request: catalog_pb2.ListProductsRequest, context: Any
    ) -> AsyncIterator[catalog_pb2.ListProductsResponse]:
        for index in range(3):
            yield catalog_pb2.ListProductsResponse(product=catalog_pb2.Product(sku=f"S{index}"))
        raise ValueError("exploded mid-stream")

    async def BatchGetProducts(  # noqa: N802
        self, request: catalog_pb2.BatchGetProductsRequest, context: Any
    ) -> catalog_pb2.BatchGetProductsResponse:
        raise NotImplementedError


def _build(servicer: MisbehavingCatalog) -> Any:
    def build(channels: Channels) -> ServiceParts:
        registration = Registration(
            servicer, catalog_pb2_grpc.add_CatalogServiceServicer_to_server, CATALOG
        )
        return ServiceParts(registrations=[registration])

    return build


def _details(error: grpc.aio.AioRpcError) -> status_pb2.Status:
    for key, value in error.trailing_metadata() or ():
        if key == error_mapping.STATUS_DETAILS_KEY and isinstance(value, bytes):
            return status_pb2.Status.FromString(value)
    raise AssertionError("no grpc-status-details-bin trailer")


@pytest.fixture
async def catalog() -> AsyncIterator[
    tuple[catalog_pb2_grpc.CatalogServiceStub, MisbehavingCatalog]
]:
    servicer = MisbehavingCatalog()
    async with (
        running_host(_build(servicer)) as host,
        grpc.aio.insecure_channel(f"127.0.0.1:{host.grpc_port}") as channel,
    ):
        yield catalog_pb2_grpc.CatalogServiceStub(channel), servicer


async def test_domain_not_found_maps_to_not_found_with_details(catalog: Any) -> None:
    """A NotFound domain error arrives as NOT_FOUND with ErrorInfo and ResourceInfo."""
    stub, _ = catalog
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetProduct(catalog_pb2.GetProductRequest(sku="missing"), timeout=5)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert caught.value.details() == "no product missing"
    status = _details(caught.value)
    info, resource = error_details_pb2.ErrorInfo(), error_details_pb2.ResourceInfo()
    assert status.details[0].Unpack(info)
    assert info.reason == "PRODUCT_NOT_FOUND"
    assert status.details[1].Unpack(resource)
    assert resource.resource_name == "missing"


async def test_invalid_argument_names_the_field_in_bad_request(catalog: Any) -> None:
    """An InvalidArgument carries a BadRequest detail naming the offending field."""
    stub, _ = catalog
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetProduct(catalog_pb2.GetProductRequest(sku="bad"), timeout=5)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    rebuilt = error_mapping.error_from_rpc(caught.value)
    assert isinstance(rebuilt, InvalidArgument)
    assert [v.field for v in rebuilt.violations] == ["sku"]


async def test_unexpected_exception_becomes_internal_with_opaque_id(catalog: Any) -> None:
    """A bug surfaces as INTERNAL with an error id and no trace of the exception text."""
    stub, _ = catalog
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetProduct(catalog_pb2.GetProductRequest(sku="boom"), timeout=5)
    assert caught.value.code() == grpc.StatusCode.INTERNAL
    message = caught.value.details() or ""
    assert "secret internals" not in message
    assert "Traceback" not in message
    assert "error id" in message


async def test_exception_mid_stream_is_internal_not_unknown(catalog: Any) -> None:
    """E39: messages sent before a mid-stream failure arrive, then INTERNAL (not UNKNOWN)."""
    stub, _ = catalog
    received: list[str] = []

    async def consume() -> None:
        async for reply in stub.ListProducts(catalog_pb2.ListProductsRequest(), timeout=5):
            received.append(reply.product.sku)

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await consume()
    assert received == ["S0", "S1", "S2"]
    assert caught.value.code() == grpc.StatusCode.INTERNAL
    assert "exploded" not in (caught.value.details() or "")


@pytest.mark.parametrize(
    ("method", "payload"),
    [
        ("GetProduct", b"\xff\xff\xff"),  # not protobuf at all
        ("GetProduct", b"\x0a\x02\xc3\x28"),  # field 1 (sku) is not UTF-8
        ("ListProducts", b"\xff\xff\xff"),  # a server stream's request
    ],
)
async def test_an_unparsable_request_is_internal_with_a_reason_not_unknown(
    method: str, payload: bytes
) -> None:
    """R-E39: bytes that are not the request message are INTERNAL (the gRPC spec's code
    for an unparsable request, and the Go services') with reason UNPARSABLE_REQUEST, never
    UNKNOWN with the parser's exception text; the handler never runs."""
    servicer = MisbehavingCatalog()
    async with (
        running_host(_build(servicer)) as host,
        grpc.aio.insecure_channel(f"127.0.0.1:{host.grpc_port}") as channel,
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await _send_raw(
                channel, f"/{CATALOG}/{method}", payload, streams=method == "ListProducts"
            )
    assert caught.value.code() == grpc.StatusCode.INTERNAL
    assert "DecodeError" not in (caught.value.details() or "")
    assert "Unexpected" not in (caught.value.details() or "")
    info = error_details_pb2.ErrorInfo()
    assert _details(caught.value).details[0].Unpack(info)
    assert info.reason == "UNPARSABLE_REQUEST"


async def _send_raw(channel: grpc.aio.Channel, path: str, payload: bytes, *, streams: bool) -> None:
    """Calls ``path`` with ``payload`` as the serialized request, reading every reply."""
    if streams:
        stream: grpc.aio.UnaryStreamMultiCallable[bytes, bytes] = channel.unary_stream(path)
        async for _ in stream(payload, timeout=5):
            pass
    else:
        unary: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(path)
        await unary(payload, timeout=5)


async def test_default_deadline_applies_when_caller_sends_none(catalog: Any) -> None:
    """A unary call without a deadline is cut off at the default with DEADLINE_EXCEEDED."""
    stub, _ = catalog
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await asyncio.wait_for(stub.GetProduct(catalog_pb2.GetProductRequest(sku="slow")), 10)
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert 1.5 < loop.time() - started < 5  # TEST_RUNTIME.default_deadline_s is 2 s


async def test_caller_deadline_is_visible_to_the_handler(catalog: Any) -> None:
    """D31: the handler's call scope holds the caller's deadline for outbound calls."""
    stub, servicer = catalog
    loop_now = asyncio.get_running_loop().time()
    await stub.GetProduct(catalog_pb2.GetProductRequest(sku="SKU-1"), timeout=3)
    assert servicer.seen_deadline is not None
    assert servicer.seen_deadline - loop_now < 3.1


async def test_stream_cancelled_by_the_client_leaves_no_error_behind() -> None:
    """A server stream the client abandons mid-way is finalised without an error (the
    autouse loop-error check fails the test otherwise)."""
    async with (
        running_host(build_catalog(300)) as host,
        grpc.aio.insecure_channel(f"127.0.0.1:{host.grpc_port}") as channel,
    ):
        stub = catalog_pb2_grpc.CatalogServiceStub(channel)
        for _ in range(5):
            call = stub.ListProducts(catalog_pb2.ListProductsRequest(), timeout=5)
            assert isinstance(await call.read(), catalog_pb2.ListProductsResponse)
            call.cancel()
        await asyncio.sleep(0.2)
        gc.collect()  # finalise the abandoned handler generators now, inside the test
        await asyncio.sleep(0.2)
