"""Wiring: the payments service's parts for the shared service host, over gRPC or REST."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from shopmesh.payments.v1 import payments_pb2_grpc

from meshkit.runtime.channels import Channels
from meshkit.runtime.rest.host import RestBuild, RestParts
from meshkit.runtime.server import BuildParts, Registration, ServiceParts
from meshkit.storage.config import open_store
from services.payments.config import PaymentsConfig
from services.payments.domain import Payments, PaymentsStorage
from services.payments.rest import PaymentsResource
from services.payments.servicer import SERVICE_NAME, PaymentsServicer
from services.payments.sqlite_store import SqlitePaymentsStore

if TYPE_CHECKING:
    from meshkit.storage.dynamodb import Table

DATABASE_FILE = "payments.sqlite3"


def _open(config: PaymentsConfig) -> tuple[Payments, Callable[[], Awaitable[None]]]:
    store: PaymentsStorage = open_store(
        config.storage, DATABASE_FILE, SqlitePaymentsStore, _dynamodb_store
    )

    async def close() -> None:
        store.close()

    return Payments(store, config.failures), close


def _dynamodb_store(table: Table) -> PaymentsStorage:
    from services.payments.dynamodb_store import DynamoPaymentsStore  # boto3: only when used

    return DynamoPaymentsStore(table)


def build(config: PaymentsConfig) -> BuildParts:
    def parts(channels: Channels) -> ServiceParts:
        payments, close = _open(config)
        add = payments_pb2_grpc.add_PaymentsServiceServicer_to_server
        registration = Registration(PaymentsServicer(payments), add, SERVICE_NAME)
        return ServiceParts(registrations=[registration], on_stop=[close])

    return parts


def build_rest(config: PaymentsConfig) -> RestBuild:
    def parts(clients: object) -> RestParts:
        payments, close = _open(config)
        return RestParts(routes=PaymentsResource(payments).routes(), on_stop=[close])

    return parts
