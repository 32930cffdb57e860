"""Wiring: the payments service's parts for the shared service host, over gRPC or REST."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from shopmesh.payments.v1 import payments_pb2_grpc

from services.payments.config import PaymentsConfig
from services.payments.domain import Payments, PaymentsStorage
from services.payments.rest import PaymentsResource
from services.payments.servicer import SERVICE_NAME, PaymentsServicer
from services.payments.store import SqlitePaymentsStore
from services.runtime.channels import Channels
from services.runtime.rest.host import RestBuild, RestParts
from services.runtime.server import BuildParts, Registration, ServiceParts

DATABASE_FILE = "payments.sqlite3"


def _open(config: PaymentsConfig) -> tuple[Payments, Callable[[], Awaitable[None]]]:
    storage = config.storage
    store: PaymentsStorage
    if storage.kind == "dynamodb":
        # Imported here: boto3 costs every process that does not use it ~0.2 s at start.
        from services.common.dynamodb import open_table
        from services.payments.dynamodb import DynamoPaymentsStore

        store = DynamoPaymentsStore(open_table(storage))
    else:
        storage.data_dir.mkdir(parents=True, exist_ok=True)
        store = SqlitePaymentsStore(storage.data_dir / DATABASE_FILE)

    async def close() -> None:
        store.close()

    return Payments(store, config.failures), close


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
