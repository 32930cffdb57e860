"""grpcurl examples printed by the runner, one table keyed by fully qualified service.

Each request works against the seeded data (services/common/seed.py). A service that is
not in the table still gets ``list`` and ``describe``; to add one, add an entry here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


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
