"""Examples printed by the runner: grpcurl calls, one table keyed by fully qualified
service; curl requests to the REST/JSON gateway; and curl requests to each service of a
REST/JSON baseline mesh, one table keyed by service name.

Each request works against the seeded data (services/common/seed.py). A service that is
not in the table still gets ``list`` and ``describe``; to add one, add an entry here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class Example:
    """One call of ``method`` (a method of the keyed service) with a JSON request, or
    several for a client or bidirectional stream (grpcurl reads one object per message)."""

    method: str
    request: Mapping[str, Any] | tuple[Mapping[str, Any], ...]
    note: str = ""

    @property
    def messages(self) -> tuple[Mapping[str, Any], ...]:
        return self.request if isinstance(self.request, tuple) else (self.request,)


_ITEMS = [{"sku": "SKU-00042", "quantity": 2}]

EXAMPLES: Mapping[str, tuple[Example, ...]] = {
    "shopmesh.catalog.v1.CatalogService": (
        Example("GetProduct", {"sku": "SKU-00042"}),
        Example("ListProducts", {"category": "books", "limit": 3}, "server stream"),
    ),
    "shopmesh.pricing.v1.PricingService": (
        Example("Quote", {"items": _ITEMS, "region": "DE"}),
        Example(
            "QuoteStream",
            (
                {"line_id": "1", "item": {"sku": "SKU-00042", "quantity": 2}, "region": "DE"},
                {"line_id": "2", "item": {"sku": "SKU-00007", "quantity": 12}, "region": "DE"},
            ),
            "bidi stream: one reply per line",
        ),
    ),
    "shopmesh.inventory.v1.InventoryService": (
        Example("GetStock", {"sku": "SKU-00042"}),
        Example(
            "Restock",
            ({"sku": "SKU-00042", "quantity": 10}, {"sku": "SKU-00043", "quantity": 5}),
            "client stream: one reply for all deliveries",
        ),
    ),
    "shopmesh.payments.v1.PaymentsService": (
        Example(
            "Charge",
            {
                "idempotency_key": "demo-charge-1",
                "amount": {"currency_code": "USD", "amount_minor": 1999},
                "payment_token": "tok_visa",
                "reference": "demo",
            },
            "same key again replays the same charge",
        ),
    ),
    "shopmesh.orders.v1.OrdersService": (
        Example(
            "PlaceOrder",
            {
                "idempotency_key": "demo-order-1",
                "customer_id": "cust-demo",
                "items": _ITEMS,
                "region": "DE",
                "payment_token": "tok_visa",
            },
        ),
        Example("WatchOrders", {"after_sequence": 0}, "streams every order event until Ctrl-C"),
    ),
}


JSON = "application/json"
NDJSON = "application/x-ndjson"
DOCS_PATH = "/docs"
"""The gateway's Swagger UI page (printed as a URL to open, not as a curl command)."""


@dataclass(frozen=True)
class CurlExample:
    """One HTTP request. ``body`` is a JSON object, sent as JSON, or a tuple of them, sent
    as an NDJSON stream (one object per line, as a client or bidi stream RPC reads them).
    ``streams`` marks NDJSON replies, which curl should print line by line as they
    arrive; ``endless`` ones never end by themselves. ``pipe`` is a shell command the
    output goes through; ``headers`` are sent after the content type."""

    method: Literal["GET", "POST"]
    path: str
    body: Mapping[str, Any] | tuple[Mapping[str, Any], ...] | None = None
    note: str = ""
    streams: bool = False
    endless: bool = False
    pipe: str = ""
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def content_type(self) -> str | None:
        """The request's content type; None without a body."""
        if self.body is None:
            return None
        return NDJSON if isinstance(self.body, tuple) else JSON

    @property
    def data(self) -> str | None:
        """The exact request body: compact JSON, or NDJSON lines each ending in a newline."""
        if self.body is None:
            return None
        if isinstance(self.body, tuple):
            return "".join(f"{_compact(line)}\n" for line in self.body)
        return _compact(self.body)


def _compact(document: Mapping[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"))


_HTTP_ITEMS = [{"sku": "SKU-00042", "quantity": 2}]

GATEWAY_EXAMPLES: tuple[CurlExample, ...] = (
    CurlExample("GET", "/v1/products/SKU-00042"),
    CurlExample(
        "GET",
        "/v1/products?category=books&limit=3",
        note="server stream: one NDJSON line per product",
        streams=True,
    ),
    CurlExample("POST", "/v1/quotes", {"items": _HTTP_ITEMS, "region": "DE"}),
    CurlExample(
        "POST",
        "/v1/quotes:stream",
        (
            {"lineId": "1", "item": {"sku": "SKU-00042", "quantity": 2}, "region": "DE"},
            {"lineId": "2", "item": {"sku": "SKU-00007", "quantity": 12}, "region": "DE"},
        ),
        note="bidi stream: NDJSON in, one reply line per request line",
        streams=True,
    ),
    CurlExample("GET", "/v1/stock/SKU-00042"),
    CurlExample(
        "POST",
        "/v1/orders",
        {
            "idempotencyKey": "demo-http-1",
            "customerId": "cust-demo",
            "items": _HTTP_ITEMS,
            "region": "DE",
            "paymentToken": "tok_visa",
        },
        note="same idempotencyKey again returns the same order",
    ),
    CurlExample(
        "GET",
        "/v1/orders:watch",
        note="NDJSON: every order event, then follows live until Ctrl-C",
        streams=True,
        endless=True,
    ),
    CurlExample("GET", "/openapi.json", note="the OpenAPI 3.1 document", pipe="head -c 300"),
)


_REST_ITEMS = [{"sku": "SKU-00042", "quantity": 2}]
_REST_MONEY = {"currencyCode": "USD", "amountMinor": 1999}

REST_EXAMPLES: Mapping[str, tuple[CurlExample, ...]] = {
    "catalog": (
        CurlExample("GET", "/v1/products/SKU-00042"),
        CurlExample("GET", "/v1/products?category=books&limit=3", note="one page"),
        CurlExample("POST", "/v1/products/lookup", {"skus": ["SKU-00042", "SKU-00007"]}),
    ),
    "pricing": (CurlExample("POST", "/v1/quotes", {"items": _REST_ITEMS, "region": "DE"}),),
    "inventory": (
        CurlExample("GET", "/v1/stock/SKU-00042"),
        CurlExample(
            "POST",
            "/v1/reservations",
            {"reservationKey": "demo-rest-1", "sku": "SKU-00042", "quantity": 1},
            note="same key again keeps the one reservation",
        ),
        CurlExample("POST", "/v1/reservations/demo-rest-1/release"),
        CurlExample(
            "POST",
            "/v1/stock/restock",
            {"deliveries": [{"sku": "SKU-00042", "quantity": 10}]},
        ),
    ),
    "payments": (
        CurlExample(
            "POST",
            "/v1/charges",
            {"amount": _REST_MONEY, "paymentToken": "tok_visa", "reference": "demo"},
            note="same Idempotency-Key again replays the same charge",
            headers=(("Idempotency-Key", "demo-rest-charge-1"),),
        ),
        CurlExample("GET", "/v1/charges?idempotencyKey=demo-rest-charge-1"),
    ),
    "orders": (
        CurlExample(
            "POST",
            "/v1/orders",
            {
                "customerId": "cust-demo",
                "items": _REST_ITEMS,
                "region": "DE",
                "paymentToken": "tok_visa",
            },
            note="same Idempotency-Key again returns the same order",
            headers=(("Idempotency-Key", "demo-rest-order-1"),),
        ),
        CurlExample("GET", "/v1/orders/events?afterSequence=0", note="one page of events"),
    ),
}
"""Requests to the services of a REST mesh (services/<service>/ REST adapters), in an
order that works when run top to bottom (a reservation before its release)."""
