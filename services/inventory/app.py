"""Wiring: the inventory service's parts for the shared service host, over gRPC or REST."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from shopmesh.inventory.v1 import inventory_pb2_grpc

from services.common.seed import seed_products
from services.inventory.domain import Inventory
from services.inventory.rest import InventoryResource
from services.inventory.servicer import SERVICE_NAME, InventoryServicer
from services.inventory.store import InventoryStore
from services.runtime.channels import Channels
from services.runtime.rest.host import RestBuild, RestParts
from services.runtime.server import BuildParts, Registration, ServiceParts


def _open(database: Path, product_count: int) -> tuple[Inventory, Callable[[], Awaitable[None]]]:
    """Inventory over the SQLite file ``database`` (created and seeded when new)."""
    database.parent.mkdir(parents=True, exist_ok=True)
    initial = {p.sku: p.initial_stock for p in seed_products(product_count)}
    store = InventoryStore(database, initial)

    async def close() -> None:
        store.close()

    return Inventory(store), close


def build(database: Path, product_count: int) -> BuildParts:
    def parts(channels: Channels) -> ServiceParts:
        inventory, close = _open(database, product_count)
        add = inventory_pb2_grpc.add_InventoryServiceServicer_to_server
        registration = Registration(InventoryServicer(inventory), add, SERVICE_NAME)
        return ServiceParts(registrations=[registration], on_stop=[close])

    return parts


def build_rest(database: Path, product_count: int) -> RestBuild:
    def parts(clients: object) -> RestParts:
        inventory, close = _open(database, product_count)
        return RestParts(routes=InventoryResource(inventory).routes(), on_stop=[close])

    return parts
