"""The orders service's dependencies over REST: the baseline's adapters of the ports.

Per item (the default, what a REST API without batch endpoints forces): one request
per line item to catalog, pricing and inventory, sent concurrently, plus one charge:
3N+1 calls for N items where the gRPC adapters make 4. Batch: the batch endpoints a
REST team adds (``/v1/products/lookup``, all lines in one ``/v1/quotes``,
``/v1/reservations/batch``): 4 calls, like gRPC, but each a separate HTTP/1.1 exchange.
Failures arrive as DomainErrors from ``RestClient``; per-item requests follow
``services.orders.fanout``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from meshkit.errors import Internal, NotFound
from meshkit.runtime.rest.client import RestClient
from meshkit.runtime.rest.errors import error_from_document
from services.kernel.convert import money_json
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


def _path(value: str) -> str:
    return quote(value, safe="")


def _money(document: Mapping[str, Any]) -> Money:
    try:
        return Money(int(document["amountMinor"]), str(document["currencyCode"]))
    except (KeyError, TypeError, ValueError):
        raise Internal(message="money without amount", reason="BAD_DOWNSTREAM_REPLY") from None


def _product(document: Mapping[str, Any]) -> ProductInfo:
    return ProductInfo(str(document["sku"]), str(document["name"]), bool(document["active"]))


def _priced(document: Mapping[str, Any]) -> PricedLine:
    return PricedLine(str(document["sku"]), int(document["quantity"]), _money(document["total"]))


class RestCatalog:
    def __init__(self, client: RestClient, *, batch: bool) -> None:
        self._client = client
        self._batch = batch

    async def get_products(self, skus: Sequence[str]) -> Mapping[str, ProductInfo]:
        if self._batch:
            reply = await self._client.call("POST", "/v1/products/lookup", {"skus": list(skus)})
            return {p.sku: p for p in map(_product, reply["products"])}
        return await products_found(skus, self._get)

    async def _get(self, sku: str) -> ProductInfo:
        return _product(await self._client.call("GET", f"/v1/products/{_path(sku)}"))


class RestPricing:
    def __init__(self, client: RestClient, *, batch: bool) -> None:
        self._client = client
        self._batch = batch

    async def quote(
        self, items: Sequence[LineItem], region: str, promo_code: str
    ) -> Sequence[PricedLine]:
        if self._batch:
            return [
                _priced(line) for line in (await self._post(items, region, promo_code))["lines"]
            ]
        replies = await all_or_first_error(
            [self._post([item], region, promo_code) for item in items]
        )
        return [_priced(reply["lines"][0]) for reply in replies]

    async def _post(
        self, items: Sequence[LineItem], region: str, promo_code: str
    ) -> dict[str, Any]:
        body = {
            "items": [{"sku": item.sku, "quantity": item.quantity} for item in items],
            "region": region,
            "promoCode": promo_code,
        }
        return await self._client.call("POST", "/v1/quotes", body)


class RestInventory:
    def __init__(self, client: RestClient, *, batch: bool) -> None:
        self._client = client
        self._batch = batch

    async def reserve(self, requests: Sequence[ReservationRequest]) -> Sequence[ReservationOutcome]:
        if self._batch:
            body = {"reservations": [_reservation(r) for r in requests]}
            reply = await self._client.call("POST", "/v1/reservations/batch", body)
            return [_outcome(result) for result in reply["results"]]
        return await reservation_outcomes(requests, self._reserve_one)

    async def _reserve_one(self, request: ReservationRequest) -> None:
        await self._client.call("POST", "/v1/reservations", _reservation(request))

    async def release(self, reservation_key: str) -> None:
        await self._client.call("POST", f"/v1/reservations/{_path(reservation_key)}/release")


def _reservation(request: ReservationRequest) -> dict[str, Any]:
    return {
        "reservationKey": request.reservation_key,
        "sku": request.sku,
        "quantity": request.quantity,
    }


def _outcome(result: Mapping[str, Any]) -> ReservationOutcome:
    key = str(result["reservationKey"])
    if "error" in result:
        return ReservationOutcome(key, error_from_document(400, result["error"]))
    return ReservationOutcome(key)


class RestPayments:
    def __init__(self, client: RestClient) -> None:
        self._client = client

    async def charge(
        self, idempotency_key: str, amount: Money, payment_token: str, reference: str
    ) -> str:
        body = {"amount": money_json(amount), "paymentToken": payment_token, "reference": reference}
        headers = {"idempotency-key": idempotency_key}
        reply = await self._client.call("POST", "/v1/charges", body, headers=headers)
        return str(reply["chargeId"])

    async def find_charge(self, idempotency_key: str) -> str | None:
        params = {"idempotencyKey": idempotency_key}
        try:
            reply = await self._client.call("GET", "/v1/charges", params=params)
        except NotFound:
            return None
        return str(reply["chargeId"])

    async def refund(self, charge_id: str, reason: str) -> None:
        await self._client.call(
            "POST", f"/v1/charges/{_path(charge_id)}/refund", {"reason": reason}
        )


def rest_ports(
    clients: Mapping[str, RestClient], *, batch: bool
) -> tuple[CatalogPort, PricingPort, InventoryPort, PaymentsPort]:
    """The four ports over REST, per item or batched."""
    return (
        RestCatalog(clients["catalog"], batch=batch),
        RestPricing(clients["pricing"], batch=batch),
        RestInventory(clients["inventory"], batch=batch),
        RestPayments(clients["payments"]),
    )
