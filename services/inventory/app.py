"""Wiring: the inventory service's parts for the shared service host, over gRPC or REST."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING

from shopmesh.inventory.v1 import inventory_pb2_grpc

from meshkit.runtime.channels import Channels
from meshkit.runtime.rest.host import RestBuild, RestParts
from meshkit.runtime.server import BuildParts, Registration, ServiceParts
from meshkit.storage.config import StorageConfig, open_store
from services.inventory.domain import Inventory, InventoryStorage
from services.inventory.rest import InventoryResource
from services.inventory.servicer import SERVICE_NAME, InventoryServicer
from services.inventory.sqlite_store import SqliteInventoryStore
from services.kernel.seed import seed_products

if TYPE_CHECKING:
    from meshkit.storage.dynamodb import Table

DATABASE_FILE = "inventory.sqlite3"


def _open(
    storage: StorageConfig, product_count: int
) -> tuple[Inventory, Callable[[], Awaitable[None]]]:
    """Inventory over its SQLite file or DynamoDB table (seeded when new)."""
    initial = {p.sku: p.initial_stock for p in seed_products(product_count)}
    store: InventoryStorage = open_store(
        storage,
        DATABASE_FILE,
        lambda path: SqliteInventoryStore(path, initial),
        lambda table: _dynamodb_store(table, initial),
    )

    async def close() -> None:
        store.close()

    return Inventory(store), close


def _dynamodb_store(table: Table, initial: Mapping[str, int]) -> InventoryStorage:
    from services.inventory.dynamodb_store import DynamoInventoryStore  # boto3: only when used

    return DynamoInventoryStore(table, initial)


def build(storage: StorageConfig, product_count: int) -> BuildParts:
    def parts(channels: Channels) -> ServiceParts:
        inventory, close = _open(storage, product_count)
        add = inventory_pb2_grpc.add_InventoryServiceServicer_to_server
        registration = Registration(InventoryServicer(inventory), add, SERVICE_NAME)
        return ServiceParts(registrations=[registration], on_stop=[close])

    return parts


def build_rest(storage: StorageConfig, product_count: int) -> RestBuild:
    def parts(clients: object) -> RestParts:
        inventory, close = _open(storage, product_count)
        return RestParts(routes=InventoryResource(inventory).routes(), on_stop=[close])

    return parts
