"""PaymentsService's REST/JSON baseline: charges as resources, keyed by the
``Idempotency-Key`` header as REST APIs do.

``POST /v1/charges``, ``GET /v1/charges/{chargeId}``, ``GET
/v1/charges?idempotencyKey=K`` (how a caller finds a charge whose reply it lost) and
``POST /v1/charges/{chargeId}/refund``.
"""

from __future__ import annotations

from typing import Any

from meshkit.runtime.rest.request import RestRequest
from meshkit.runtime.rest.router import Route
from services.kernel.convert import money_from_json, money_json, time_json
from services.payments.domain import ChargeRecord, Payments

IDEMPOTENCY_KEY_HEADER = b"idempotency-key"


def charge_json(charge: ChargeRecord) -> dict[str, Any]:
    return {
        "chargeId": charge.charge_id,
        "idempotencyKey": charge.idempotency_key,
        "amount": money_json(charge.amount),
        "reference": charge.reference,
        "state": charge.state.value,
        "createTime": time_json(charge.create_time),
    }


class PaymentsResource:
    def __init__(self, payments: Payments) -> None:
        self._payments = payments

    def routes(self) -> list[Route]:
        return [
            Route("POST", "/v1/charges", self.charge),
            Route("GET", "/v1/charges", self.find_charge),
            Route("GET", "/v1/charges/{chargeId}", self.get_charge),
            Route("POST", "/v1/charges/{chargeId}/refund", self.refund),
        ]

    async def charge(self, request: RestRequest) -> dict[str, Any]:
        body = request.json()
        amount = money_from_json(body.object("amount"), "amount")
        token, reference = body.string("paymentToken"), body.string("reference")
        body.done()
        key = request.header(IDEMPOTENCY_KEY_HEADER)
        return charge_json(await self._payments.charge(key, amount, token, reference))

    async def find_charge(self, request: RestRequest) -> dict[str, Any]:
        query = request.query()
        key = query.string("idempotencyKey")
        query.done()
        return charge_json(await self._payments.find(key))

    async def get_charge(self, request: RestRequest) -> dict[str, Any]:
        return charge_json(await self._payments.get(request.params["chargeId"]))

    async def refund(self, request: RestRequest) -> dict[str, Any]:
        body = request.optional_json()
        reason = body.string("reason")
        body.done()
        return charge_json(await self._payments.refund(request.params["chargeId"], reason))
