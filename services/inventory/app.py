"""Wiring: the inventory service's parts for the shared service host, over gRPC or REST."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from shopmesh.inventory.v1 import inventory_pb2_grpc

from services.common.seed import seed_products
from services.inventory.domain import Inventory, InventoryStorage
from services.inventory.rest import InventoryResource
from services.inventory.servicer import SERVICE_NAME, InventoryServicer
from services.inventory.store import SqliteInventoryStore
from services.runtime.channels import Channels
from services.runtime.config import StorageConfig
from services.runtime.rest.host import RestBuild, RestParts
from services.runtime.server import BuildParts, Registration, ServiceParts

DATABASE_FILE = "inventory.sqlite3"


def _open(
    storage: StorageConfig, product_count: int
) -> tuple[Inventory, Callable[[], Awaitable[None]]]:
    """Inventory over its SQLite file or DynamoDB table (seeded when new)."""
    initial = {p.sku: p.initial_stock for p in seed_products(product_count)}
    store: InventoryStorage
    if storage.kind == "dynamodb":
        # Imported here: boto3 costs every process that does not use it ~0.2 s at start.
        from services.common.dynamodb import open_table
        from services.inventory.dynamodb import DynamoInventoryStore

        store = DynamoInventoryStore(open_table(storage), initial)
    else:
        storage.data_dir.mkdir(parents=True, exist_ok=True)
        store = SqliteInventoryStore(storage.data_dir / DATABASE_FILE, initial)

    async def close() -> None:
        store.close()

    return Inventory(store), close


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
