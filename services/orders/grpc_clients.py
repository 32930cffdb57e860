"""The orders service's dependencies over gRPC: one adapter per port.

These are where the mesh is chatty or not: per order, one BatchGetProducts call, one
QuoteStream and one ReserveStream (bidirectional: every line in, every answer out, on a
single HTTP/2 stream) and one Charge — four calls for any number of lines. Downstream
statuses come back as DomainErrors through ``translate_rpc_errors``. The ``PerItem``
variants make one unary call per line item instead (3N+1 calls over the same HTTP/2
connections): the load test's arm that separates the protocol from the API shape.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import grpc
from shopmesh.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from shopmesh.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from shopmesh.payments.v1 import payments_pb2, payments_pb2_grpc
from shopmesh.pricing.v1 import pricing_pb2, pricing_pb2_grpc

from meshkit.errors import Internal, NotFound
from meshkit.runtime.error_mapping import error_from_status, translate_rpc_errors
from services.kernel.convert import money_from_pb, money_to_pb
from services.kernel.money import Money
from services.orders.fanout import all_or_first_error, products_found, reservation_outcomes
from services.orders.model import LineItem
from services.orders.ports import (
    CatalogPort,
    InventoryPort,
    PaymentsPort,
    PricedLine,
    PricingPort,
    ProductInfo,
    ReservationOutcome,
    ReservationRequest,
)


def _unexpected(what: str) -> Internal:
    return Internal(message=f"downstream protocol error: {what}", reason="BAD_DOWNSTREAM_REPLY")


class GrpcCatalog:
    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = catalog_pb2_grpc.CatalogServiceStub(channel)

    @translate_rpc_errors
    async def get_products(self, skus: Sequence[str]) -> Mapping[str, ProductInfo]:
        reply = await self._stub.BatchGetProducts(catalog_pb2.BatchGetProductsRequest(skus=skus))
        return {p.sku: ProductInfo(p.sku, p.name, p.active) for p in reply.products}


class GrpcPricing:
    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = pricing_pb2_grpc.PricingServiceStub(channel)

    @translate_rpc_errors
    async def quote(
        self, items: Sequence[LineItem], region: str, promo_code: str
    ) -> Sequence[PricedLine]:
        requests = [
            pricing_pb2.QuoteStreamRequest(
                line_id=str(index),
                item=pricing_pb2.QuoteItem(sku=item.sku, quantity=item.quantity),
                region=region,
                promo_code=promo_code,
            )
            for index, item in enumerate(items)
        ]
        lines: list[PricedLine] = []
        async for reply in self._stub.QuoteStream(iter(requests)):
            if reply.WhichOneof("result") == "error":
                raise error_from_status(reply.error)
            quote = reply.quote
            lines.append(PricedLine(quote.sku, quote.quantity, money_from_pb(quote.total, "total")))
        if len(lines) != len(items):
            raise _unexpected(f"{len(lines)} quotes for {len(items)} lines")
        return lines


class GrpcInventory:
    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = inventory_pb2_grpc.InventoryServiceStub(channel)

    @translate_rpc_errors
    async def reserve(self, requests: Sequence[ReservationRequest]) -> Sequence[ReservationOutcome]:
        messages = [
            inventory_pb2.ReserveStreamRequest(
                reservation_key=r.reservation_key, sku=r.sku, quantity=r.quantity
            )
            for r in requests
        ]
        outcomes: list[ReservationOutcome] = []
        async for reply in self._stub.ReserveStream(iter(messages)):
            failed = reply.WhichOneof("result") == "error"
            error = error_from_status(reply.error) if failed else None
            outcomes.append(ReservationOutcome(reply.reservation_key, error))
        if [o.reservation_key for o in outcomes] != [r.reservation_key for r in requests]:
            raise _unexpected("reservation replies do not match the requests")
        return outcomes

    @translate_rpc_errors
    async def release(self, reservation_key: str) -> None:
        await self._stub.Release(inventory_pb2.ReleaseRequest(reservation_key=reservation_key))


class GrpcPayments:
    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = payments_pb2_grpc.PaymentsServiceStub(channel)

    @translate_rpc_errors
    async def charge(
        self, idempotency_key: str, amount: Money, payment_token: str, reference: str
    ) -> str:
        reply = await self._stub.Charge(
            payments_pb2.ChargeRequest(
                idempotency_key=idempotency_key,
                amount=money_to_pb(amount),
                payment_token=payment_token,
                reference=reference,
            )
        )
        return str(reply.charge.charge_id)

    async def find_charge(self, idempotency_key: str) -> str | None:
        try:
            return await self._get_charge_by_key(idempotency_key)
        except NotFound:
            return None

    @translate_rpc_errors
    async def _get_charge_by_key(self, idempotency_key: str) -> str:
        request = payments_pb2.GetChargeRequest(idempotency_key=idempotency_key)
        return str((await self._stub.GetCharge(request)).charge.charge_id)

    @translate_rpc_errors
    async def refund(self, charge_id: str, reason: str) -> None:
        await self._stub.Refund(payments_pb2.RefundRequest(charge_id=charge_id, reason=reason))


class GrpcCatalogPerItem(GrpcCatalog):
    """One GetProduct per SKU, concurrently (the per-item arm: protocol without streams)."""

    async def get_products(self, skus: Sequence[str]) -> Mapping[str, ProductInfo]:
        return await products_found(skus, self._get)

    @translate_rpc_errors
    async def _get(self, sku: str) -> ProductInfo:
        product = (await self._stub.GetProduct(catalog_pb2.GetProductRequest(sku=sku))).product
        return ProductInfo(product.sku, product.name, product.active)


class GrpcPricingPerItem(GrpcPricing):
    """One unary Quote per line, concurrently."""

    async def quote(
        self, items: Sequence[LineItem], region: str, promo_code: str
    ) -> Sequence[PricedLine]:
        return await all_or_first_error([self._quote(item, region, promo_code) for item in items])

    @translate_rpc_errors
    async def _quote(self, item: LineItem, region: str, promo_code: str) -> PricedLine:
        request = pricing_pb2.QuoteRequest(
            items=[pricing_pb2.QuoteItem(sku=item.sku, quantity=item.quantity)],
            region=region,
            promo_code=promo_code,
        )
        line = (await self._stub.Quote(request)).lines[0]
        return PricedLine(line.sku, line.quantity, money_from_pb(line.total, "total"))


class GrpcInventoryPerItem(GrpcInventory):
    """One unary Reserve per line, concurrently."""

    async def reserve(self, requests: Sequence[ReservationRequest]) -> Sequence[ReservationOutcome]:
        return await reservation_outcomes(requests, self._reserve)

    @translate_rpc_errors
    async def _reserve(self, request: ReservationRequest) -> None:
        await self._stub.Reserve(
            inventory_pb2.ReserveRequest(
                reservation_key=request.reservation_key, sku=request.sku, quantity=request.quantity
            )
        )


class GrpcPricingBatch(GrpcPricing):
    """Every line in one unary Quote (one message each way, not one per line)."""

    @translate_rpc_errors
    async def quote(
        self, items: Sequence[LineItem], region: str, promo_code: str
    ) -> Sequence[PricedLine]:
        request = pricing_pb2.QuoteRequest(
            items=[pricing_pb2.QuoteItem(sku=i.sku, quantity=i.quantity) for i in items],
            region=region,
            promo_code=promo_code,
        )
        lines = (await self._stub.Quote(request)).lines
        if len(lines) != len(items):
            raise _unexpected(f"{len(lines)} quotes for {len(items)} lines")
        return [PricedLine(q.sku, q.quantity, money_from_pb(q.total, "total")) for q in lines]


class GrpcInventoryBatch(GrpcInventory):
    """Every line in one unary BatchReserve, one result per line."""

    @translate_rpc_errors
    async def reserve(self, requests: Sequence[ReservationRequest]) -> Sequence[ReservationOutcome]:
        reply = await self._stub.BatchReserve(
            inventory_pb2.BatchReserveRequest(
                reservations=[
                    inventory_pb2.ReserveStreamRequest(
                        reservation_key=r.reservation_key, sku=r.sku, quantity=r.quantity
                    )
                    for r in requests
                ]
            )
        )
        outcomes = [
            ReservationOutcome(
                result.reservation_key,
                error_from_status(result.error) if result.WhichOneof("result") == "error" else None,
            )
            for result in reply.results
        ]
        if [o.reservation_key for o in outcomes] != [r.reservation_key for r in requests]:
            raise _unexpected("reservation results do not match the requests")
        return outcomes


def grpc_ports(
    channels: Mapping[str, grpc.aio.Channel], *, fanout: str = "stream"
) -> tuple[CatalogPort, PricingPort, InventoryPort, PaymentsPort]:
    """The four ports over gRPC: ``stream`` (a batch lookup and two bidi streams: 4 calls
    per order, N messages each way on the streams), ``batch`` (4 unary calls of one
    message each way) or ``per-item`` (3N+1 unary calls, the REST per-item shape)."""
    if fanout == "batch":
        return (
            GrpcCatalog(channels["catalog"]),
            GrpcPricingBatch(channels["pricing"]),
            GrpcInventoryBatch(channels["inventory"]),
            GrpcPayments(channels["payments"]),
        )
    if fanout == "per-item":
        return (
            GrpcCatalogPerItem(channels["catalog"]),
            GrpcPricingPerItem(channels["pricing"]),
            GrpcInventoryPerItem(channels["inventory"]),
            GrpcPayments(channels["payments"]),
        )
    return (
        GrpcCatalog(channels["catalog"]),
        GrpcPricing(channels["pricing"]),
        GrpcInventory(channels["inventory"]),
        GrpcPayments(channels["payments"]),
    )
