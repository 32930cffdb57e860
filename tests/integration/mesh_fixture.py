"""The whole shop in one event loop: every service on its own 127.0.0.1 port 0."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from services.catalog.app import build as build_catalog
from services.inventory.app import build as build_inventory
from services.orders.app import build as build_orders
from services.orders.config import OrdersConfig
from services.payments.app import build as build_payments
from services.payments.config import PaymentsConfig
from services.payments.domain import FailurePolicy
from services.pricing.app import build as build_pricing
from services.runtime.server import BuildParts, ServiceHost
from services.runtime.tracing import Tracing
from tests.conftest import TEST_RUNTIME, running_host

PRODUCT_COUNT = 300


@dataclass
class Mesh:
    hosts: dict[str, ServiceHost]
    data_dir: Path

    def address(self, name: str) -> str:
        return f"127.0.0.1:{self.hosts[name].grpc_port}"


@asynccontextmanager
async def running_mesh(
    data_dir: Path,
    failures: FailurePolicy | None = None,
    default_deadline_s: float = TEST_RUNTIME.default_deadline_s,
    replace_with: Mapping[str, BuildParts] | None = None,
    tracing: Callable[[str], Tracing] | None = None,
) -> AsyncIterator[Mesh]:
    """Starts catalog, pricing, inventory, payments, then orders wired to them.

    ``replace_with`` swaps a dependency of orders for a test double (a slow pricing, say).
    """
    runtime = replace(TEST_RUNTIME, default_deadline_s=default_deadline_s)
    async with AsyncExitStack() as stack:
        hosts: dict[str, ServiceHost] = {}
        leaves = {
            "catalog": build_catalog(PRODUCT_COUNT),
            "pricing": build_pricing(PRODUCT_COUNT),
            "inventory": build_inventory(data_dir / "inventory.sqlite3", PRODUCT_COUNT),
            "payments": build_payments(
                PaymentsConfig(data_dir / "payments.sqlite3", failures or FailurePolicy())
            ),
        }
        leaves.update(replace_with or {})
        for name, build in leaves.items():
            config = replace(runtime, service_name=name)
            traced = tracing(name) if tracing else None
            hosts[name] = await stack.enter_async_context(running_host(build, config, traced))
        dependencies = {name: f"127.0.0.1:{host.grpc_port}" for name, host in hosts.items()}
        orders_config = replace(runtime, service_name="orders", dependencies=dependencies)
        orders = build_orders(OrdersConfig(database=data_dir / "orders.sqlite3"))
        traced = tracing("orders") if tracing else None
        hosts["orders"] = await stack.enter_async_context(
            running_host(orders, orders_config, traced)
        )
        yield Mesh(hosts, data_dir)
