"""The whole shop in one event loop: every service on its own 127.0.0.1 port 0, over
gRPC or over the REST baseline."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from meshkit.runtime.config import RuntimeConfig
from meshkit.runtime.rest.host import RestBuild, RestHost
from meshkit.runtime.server import BuildParts, ServiceHost
from meshkit.runtime.tracing import Tracing
from meshkit.storage.config import StorageConfig
from services.catalog import app as catalog
from services.inventory import app as inventory
from services.orders import app as orders
from services.orders.config import OrdersConfig
from services.payments import app as payments
from services.payments.config import PaymentsConfig
from services.payments.domain import FailurePolicy
from services.pricing import app as pricing
from tests.conftest import TEST_RUNTIME, running_host, running_rest_host

PRODUCT_COUNT = 300

Transport = Literal["grpc", "rest"]


@dataclass
class Mesh:
    hosts: dict[str, ServiceHost | RestHost]
    data_dir: Path
    transport: Transport = "grpc"

    def address(self, name: str) -> str:
        """``127.0.0.1:port`` of the service's gRPC or REST listener."""
        host = self.hosts[name]
        port = host.rest_port if isinstance(host, RestHost) else host.grpc_port
        return f"127.0.0.1:{port}"

    def url(self, name: str) -> str:
        """The REST base URL of a service (REST meshes only)."""
        assert self.transport == "rest", "a gRPC mesh has no REST URLs"
        return f"http://{self.address(name)}"


@asynccontextmanager
async def running_mesh(
    data_dir: Path,
    failures: FailurePolicy | None = None,
    default_deadline_s: float = TEST_RUNTIME.default_deadline_s,
    replace_with: Mapping[str, BuildParts] | None = None,
    tracing: Callable[[str], Tracing] | None = None,
    *,
    transport: Transport = "grpc",
    rest_fanout: str = "per-item",
    grpc_fanout: str = "stream",
    rest_replace_with: Mapping[str, RestBuild] | None = None,
    runtime: RuntimeConfig = TEST_RUNTIME,
    storage: Callable[[str], StorageConfig] | None = None,
) -> AsyncIterator[Mesh]:
    """Starts catalog, pricing, inventory, payments, then orders wired to them.

    ``replace_with`` (gRPC) and ``rest_replace_with`` (REST) swap a dependency of orders
    for a test double (a slow pricing, say). ``transport="rest"`` runs the REST baseline
    of every service instead; ``runtime`` is the base of every host's config. ``storage``
    gives each stateful service its storage (default: SQLite files in ``data_dir``).
    """
    runtime = replace(runtime, default_deadline_s=default_deadline_s)
    stored = storage or (lambda name: StorageConfig(data_dir=data_dir))
    policy = PaymentsConfig(stored("payments"), failures or FailurePolicy())
    inventory_storage = stored("inventory")
    orders_config = OrdersConfig(
        storage=stored("orders"),
        rest_fanout=rest_fanout,
        grpc_fanout=grpc_fanout,
        stream_heartbeat_s=runtime.stream_heartbeat_s,
    )
    async with AsyncExitStack() as stack:
        hosts: dict[str, ServiceHost | RestHost] = {}
        if transport == "rest":
            rest_leaves = {
                "catalog": catalog.build_rest(PRODUCT_COUNT),
                "pricing": pricing.build_rest(PRODUCT_COUNT),
                "inventory": inventory.build_rest(inventory_storage, PRODUCT_COUNT),
                "payments": payments.build_rest(policy),
            }
            rest_leaves.update(rest_replace_with or {})
            for name, rest_build in rest_leaves.items():
                config = replace(runtime, service_name=name)
                hosts[name] = await stack.enter_async_context(running_rest_host(rest_build, config))
        else:
            leaves = {
                "catalog": catalog.build(PRODUCT_COUNT),
                "pricing": pricing.build(PRODUCT_COUNT),
                "inventory": inventory.build(inventory_storage, PRODUCT_COUNT),
                "payments": payments.build(policy),
            }
            leaves.update(replace_with or {})
            for name, build in leaves.items():
                config = replace(runtime, service_name=name)
                traced = tracing(name) if tracing else None
                hosts[name] = await stack.enter_async_context(running_host(build, config, traced))
        mesh = Mesh(hosts, data_dir, transport)
        dependencies = {name: mesh.address(name) for name in hosts}
        config = replace(runtime, service_name="orders", dependencies=dependencies)
        if transport == "rest":
            hosts["orders"] = await stack.enter_async_context(
                running_rest_host(orders.build_rest(orders_config), config)
            )
        else:
            traced = tracing("orders") if tracing else None
            hosts["orders"] = await stack.enter_async_context(
                running_host(orders.build(orders_config), config, traced)
            )
        yield mesh
