"""Wiring: the payments service's parts for the shared service host."""

from __future__ import annotations

from shopmesh.payments.v1 import payments_pb2_grpc

from services.payments.config import PaymentsConfig
from services.payments.domain import Payments
from services.payments.servicer import SERVICE_NAME, PaymentsServicer
from services.payments.store import PaymentsStore
from services.runtime.channels import Channels
from services.runtime.server import BuildParts, Registration, ServiceParts


def build(config: PaymentsConfig) -> BuildParts:
    def parts(channels: Channels) -> ServiceParts:
        config.database.parent.mkdir(parents=True, exist_ok=True)
        store = PaymentsStore(config.database)
        servicer = PaymentsServicer(Payments(store, config.failures))
        add = payments_pb2_grpc.add_PaymentsServiceServicer_to_server

        async def close() -> None:
            store.close()

        return ServiceParts(
            registrations=[Registration(servicer, add, SERVICE_NAME)], on_stop=[close]
        )

    return parts
