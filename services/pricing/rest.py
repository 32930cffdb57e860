"""PricingService's REST/JSON baseline: ``POST /v1/quotes`` prices one or many lines.

The gRPC side streams lines over one call; a REST caller either posts every line at
once or, per item, one line per request (what the orders service's per-item REST client
does).
"""

from __future__ import annotations

from typing import Any

from meshkit.runtime.rest.request import RestRequest
from meshkit.runtime.rest.router import Route
from services.kernel.convert import money_json
from services.pricing.domain import LineQuote, Pricer, QuoteItem


def line_json(line: LineQuote) -> dict[str, Any]:
    return {
        "sku": line.sku,
        "quantity": line.quantity,
        "unitPrice": money_json(line.unit_price),
        "discount": money_json(line.discount),
        "tax": money_json(line.tax),
        "total": money_json(line.total),
        "appliedRules": list(line.applied_rules),
    }


class PricingResource:
    def __init__(self, pricer: Pricer) -> None:
        self._pricer = pricer

    def routes(self) -> list[Route]:
        return [Route("POST", "/v1/quotes", self.quote)]

    async def quote(self, request: RestRequest) -> dict[str, Any]:
        body = request.json()
        items = body.each("items", lambda i: QuoteItem(i.string("sku"), i.integer("quantity")))
        region, promo_code = body.string("region"), body.string("promoCode")
        body.done()
        quote = self._pricer.quote(items, region, promo_code)
        return {
            "lines": [line_json(line) for line in quote.lines],
            "total": money_json(quote.total),
        }
