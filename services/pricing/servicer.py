"""PricingService over gRPC: protobuf ↔ pricing domain, per-line errors on the stream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from shopmesh.pricing.v1 import pricing_pb2, pricing_pb2_grpc

from meshkit.errors import DomainError
from meshkit.runtime.error_mapping import status_from_error
from services.kernel.convert import money_to_pb
from services.pricing.domain import LineQuote, Pricer, QuoteItem

SERVICE_NAME: str = pricing_pb2.DESCRIPTOR.services_by_name["PricingService"].full_name


def line_to_pb(line: LineQuote) -> pricing_pb2.LineQuote:
    return pricing_pb2.LineQuote(
        sku=line.sku,
        quantity=line.quantity,
        unit_price=money_to_pb(line.unit_price),
        discount=money_to_pb(line.discount),
        tax=money_to_pb(line.tax),
        total=money_to_pb(line.total),
        applied_rules=line.applied_rules,
    )


class PricingServicer(pricing_pb2_grpc.PricingServiceServicer):
    def __init__(self, pricer: Pricer) -> None:
        self._pricer = pricer

    async def Quote(  # noqa: N802 - gRPC method name
        self, request: pricing_pb2.QuoteRequest, context: Any
    ) -> pricing_pb2.QuoteResponse:
        items = [QuoteItem(item.sku, item.quantity) for item in request.items]
        quote = self._pricer.quote(items, request.region, request.promo_code)
        return pricing_pb2.QuoteResponse(
            lines=[line_to_pb(line) for line in quote.lines], total=money_to_pb(quote.total)
        )

    async def QuoteStream(  # noqa: N802
        self, request_iterator: AsyncIterator[pricing_pb2.QuoteStreamRequest], context: Any
    ) -> AsyncIterator[pricing_pb2.QuoteStreamResponse]:
        async for request in request_iterator:
            item = QuoteItem(request.item.sku, request.item.quantity)
            try:
                line = self._pricer.quote_line(item, request.region, request.promo_code)
            except DomainError as error:
                # One bad line fails that line only; the stream carries on.
                yield pricing_pb2.QuoteStreamResponse(
                    line_id=request.line_id, error=status_from_error(error)
                )
                continue
            yield pricing_pb2.QuoteStreamResponse(line_id=request.line_id, quote=line_to_pb(line))
