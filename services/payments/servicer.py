"""PaymentsService over gRPC: protobuf ↔ payments domain."""

from __future__ import annotations

from typing import Any

from shopmesh.payments.v1 import payments_pb2, payments_pb2_grpc

from meshkit.errors import FieldViolation, InvalidArgument
from services.kernel.convert import money_from_pb, money_to_pb, timestamp_to_pb
from services.payments.domain import ChargeRecord, ChargeState, Payments

SERVICE_NAME: str = payments_pb2.DESCRIPTOR.services_by_name["PaymentsService"].full_name

_STATES = {
    ChargeState.CAPTURED: payments_pb2.CHARGE_STATE_CAPTURED,
    ChargeState.REFUNDED: payments_pb2.CHARGE_STATE_REFUNDED,
}


def charge_to_pb(charge: ChargeRecord) -> payments_pb2.ChargeRecord:
    return payments_pb2.ChargeRecord(
        charge_id=charge.charge_id,
        idempotency_key=charge.idempotency_key,
        amount=money_to_pb(charge.amount),
        reference=charge.reference,
        state=_STATES[charge.state],
        create_time=timestamp_to_pb(charge.create_time),
    )


class PaymentsServicer(payments_pb2_grpc.PaymentsServiceServicer):
    def __init__(self, payments: Payments) -> None:
        self._payments = payments

    async def Charge(  # noqa: N802 - gRPC method name
        self, request: payments_pb2.ChargeRequest, context: Any
    ) -> payments_pb2.ChargeResponse:
        charge = await self._payments.charge(
            request.idempotency_key,
            money_from_pb(request.amount, "amount"),
            request.payment_token,
            request.reference,
        )
        return payments_pb2.ChargeResponse(charge=charge_to_pb(charge))

    async def Refund(  # noqa: N802
        self, request: payments_pb2.RefundRequest, context: Any
    ) -> payments_pb2.RefundResponse:
        charge = await self._payments.refund(request.charge_id, request.reason)
        return payments_pb2.RefundResponse(charge=charge_to_pb(charge))

    async def GetCharge(  # noqa: N802
        self, request: payments_pb2.GetChargeRequest, context: Any
    ) -> payments_pb2.GetChargeResponse:
        if request.charge_id and request.idempotency_key:
            raise InvalidArgument.of(
                FieldViolation("idempotency_key", "set either charge_id or idempotency_key")
            )
        if request.idempotency_key:
            charge = await self._payments.find(request.idempotency_key)
        else:
            charge = await self._payments.get(request.charge_id)
        return payments_pb2.GetChargeResponse(charge=charge_to_pb(charge))
