"""Wiring: the inventory service's parts for the shared service host."""

from __future__ import annotations

from pathlib import Path

from shopmesh.inventory.v1 import inventory_pb2_grpc

from services.common.seed import seed_products
from services.inventory.domain import Inventory
from services.inventory.servicer import SERVICE_NAME, InventoryServicer
from services.inventory.store import InventoryStore
from services.runtime.channels import Channels
from services.runtime.server import BuildParts, Registration, ServiceParts


def build(database: Path, product_count: int) -> BuildParts:
    """Inventory over the SQLite file ``database`` (created and seeded when new)."""

    def parts(channels: Channels) -> ServiceParts:
        database.parent.mkdir(parents=True, exist_ok=True)
        initial = {p.sku: p.initial_stock for p in seed_products(product_count)}
        store = InventoryStore(database, initial)
        servicer = InventoryServicer(Inventory(store))
        add = inventory_pb2_grpc.add_InventoryServiceServicer_to_server

        async def close() -> None:
            store.close()

        return ServiceParts(
            registrations=[Registration(servicer, add, SERVICE_NAME)], on_stop=[close]
        )

    return parts
