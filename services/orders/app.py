"""Wiring: the orders service, its saga over gRPC clients, and saga recovery."""

from __future__ import annotations

import asyncio
import logging

from shopmesh.orders.v1 import orders_pb2_grpc

from services.orders.config import OrdersConfig
from services.orders.grpc_clients import GrpcCatalog, GrpcInventory, GrpcPayments, GrpcPricing
from services.orders.service import OrderService
from services.orders.servicer import SERVICE_NAME, OrdersServicer
from services.orders.store import OrderStore
from services.runtime.channels import Channels
from services.runtime.server import BuildParts, Registration, ServiceParts

DEPENDENCIES = ("catalog", "pricing", "inventory", "payments")

_log = logging.getLogger("shopmesh.orders")


def build(config: OrdersConfig) -> BuildParts:
    def parts(channels: Channels) -> ServiceParts:
        config.database.parent.mkdir(parents=True, exist_ok=True)
        store = OrderStore(config.database)
        orders = OrderService(
            store,
            GrpcCatalog(channels["catalog"]),
            GrpcPricing(channels["pricing"]),
            GrpcInventory(channels["inventory"]),
            GrpcPayments(channels["payments"]),
        )

        async def recover() -> None:
            # Runs outside any request, so its calls get the default deadline: a saga
            # whose caller's deadline ran out is compensated here.
            while True:
                try:
                    finished = await orders.resume_incomplete()
                except Exception:
                    _log.exception("saga recovery sweep failed")
                else:
                    if finished:
                        _log.info("recovered sagas", extra={"sagas": finished})
                await asyncio.sleep(config.recovery_interval_s)

        async def close() -> None:
            store.close()

        add = orders_pb2_grpc.add_OrdersServiceServicer_to_server
        return ServiceParts(
            registrations=[Registration(OrdersServicer(orders), add, SERVICE_NAME)],
            hard_dependencies=DEPENDENCIES,
            background=[recover],
            on_stop=[close],
        )

    return parts
