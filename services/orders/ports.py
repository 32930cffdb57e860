"""The four services the order saga calls, as Protocols a transport client implements.

Calls are batch-shaped, so a gRPC client can stream one request per item and a REST
client can loop. Every method may raise a DomainError; the saga treats any other
exception as an internal failure of that step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from meshkit.errors import DomainError
from services.kernel.money import Money
from services.orders.model import LineItem


@dataclass(frozen=True)
class ProductInfo:
    """What the saga needs to know about a product."""

    sku: str
    name: str
    active: bool


@dataclass(frozen=True)
class PricedLine:
    """The priced total of one line, tax and discounts included."""

    sku: str
    quantity: int
    total: Money


@dataclass(frozen=True)
class ReservationRequest:
    """Units of one SKU to hold under an idempotency key."""

    reservation_key: str
    sku: str
    quantity: int


@dataclass(frozen=True)
class ReservationOutcome:
    """The outcome of one ReservationRequest: reserved when ``error`` is None."""

    reservation_key: str
    error: DomainError | None = None


class CatalogPort(Protocol):
    """Product lookups."""

    async def get_products(self, skus: Sequence[str]) -> Mapping[str, ProductInfo]:
        """The products found, by SKU; unknown SKUs are simply absent."""
        ...


class PricingPort(Protocol):
    """Line pricing."""

    async def quote(
        self, items: Sequence[LineItem], region: str, promo_code: str
    ) -> Sequence[PricedLine]:
        """One priced line per item, in request order."""
        ...


class InventoryPort(Protocol):
    """Stock reservations."""

    async def reserve(self, requests: Sequence[ReservationRequest]) -> Sequence[ReservationOutcome]:
        """One outcome per request, in request order; one item failing fails only itself."""
        ...

    async def release(self, reservation_key: str) -> None:
        """Releases a reservation; releasing twice is harmless, an unknown key is NotFound."""
        ...


class PaymentsPort(Protocol):
    """Charges and refunds."""

    async def charge(
        self, idempotency_key: str, amount: Money, payment_token: str, reference: str
    ) -> str:
        """Captures ``amount`` once per key and returns the charge id."""
        ...

    async def find_charge(self, idempotency_key: str) -> str | None:
        """The id of the charge made under ``idempotency_key``, None if none was made.

        How the saga resolves a charge whose reply it never saw (timeout, crash).
        """
        ...

    async def refund(self, charge_id: str, reason: str) -> None:
        """Refunds a charge in full; refunding twice is harmless."""
        ...
