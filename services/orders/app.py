"""Wiring: the orders service, its saga over gRPC or REST clients, and saga recovery."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any

from shopmesh.orders.v1 import orders_pb2_grpc

from meshkit.runtime.channels import Channels
from meshkit.runtime.rest.client import RestClient
from meshkit.runtime.rest.host import RestBuild, RestParts
from meshkit.runtime.server import BuildParts, Registration, ServiceParts
from meshkit.storage.config import open_store
from services.orders.config import OrdersConfig
from services.orders.domain import Orders
from services.orders.grpc_clients import grpc_ports
from services.orders.ports import CatalogPort, InventoryPort, PaymentsPort, PricingPort
from services.orders.records import OrderStorage
from services.orders.rest import OrdersResource
from services.orders.rest_clients import rest_ports
from services.orders.servicer import SERVICE_NAME, OrdersServicer
from services.orders.sqlite_store import SqliteOrderStore

if TYPE_CHECKING:
    from meshkit.storage.dynamodb import Table

DEPENDENCIES = ("catalog", "pricing", "inventory", "payments")
DATABASE_FILE = "orders.sqlite3"

_log = logging.getLogger("shopmesh.orders")

Job = Callable[[], Coroutine[Any, Any, None]]


def _open(
    config: OrdersConfig, ports: tuple[CatalogPort, PricingPort, InventoryPort, PaymentsPort]
) -> tuple[Orders, Job, Callable[[], Awaitable[None]]]:
    """The order service over ``ports``, its recovery sweep and its close hook."""
    store: OrderStorage = open_store(
        config.storage, DATABASE_FILE, SqliteOrderStore, _dynamodb_store
    )
    orders = Orders(store, *ports, skip_stock_release=config.skip_stock_release)
    if config.skip_stock_release:
        _log.warning("fault injection: compensation will not release stock")

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

    return orders, recover, close


def _dynamodb_store(table: Table) -> OrderStorage:
    from services.orders.dynamodb_store import DynamoOrderStore  # boto3: only when used

    return DynamoOrderStore(table)


def build(config: OrdersConfig) -> BuildParts:
    def parts(channels: Channels) -> ServiceParts:
        ports = grpc_ports(channels.as_mapping(), fanout=config.grpc_fanout)
        orders, recover, close = _open(config, ports)
        add = orders_pb2_grpc.add_OrdersServiceServicer_to_server
        return ServiceParts(
            registrations=[
                Registration(OrdersServicer(orders, config.stream_heartbeat_s), add, SERVICE_NAME)
            ],
            hard_dependencies=DEPENDENCIES,
            background=[recover],
            on_stop=[close],
        )

    return parts


def build_rest(config: OrdersConfig) -> RestBuild:
    def parts(clients: Mapping[str, RestClient]) -> RestParts:
        ports = rest_ports(clients, batch=config.rest_fanout == "batch")
        orders, recover, close = _open(config, ports)
        return RestParts(
            routes=OrdersResource(orders).routes(), background=[recover], on_stop=[close]
        )

    return parts
