"""The mesh under test: the five services started by the runner's ``LocalMesh`` (with
restarts on, as ``make run`` has them), orders reaching each dependency through a
``Relay``, in one of the variants: gRPC or the REST baseline, Python or Go pricing and
inventory, SQLite or DynamoDB on the local moto server.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import signal
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from loadtest.chaos.books import Books, GrpcBooks, RestBooks
from loadtest.chaos.checkout import Checkout, GrpcCheckout, RestCheckout
from loadtest.chaos.relay import Relay
from loadtest.local import load_manifest_with_variants
from meshkit.env import dependency_env_name
from meshkit.manifest import GO, load_manifest
from runner import GRPC, REST, LocalMesh, RestartPolicy, process_name

HOST = "127.0.0.1"
RECOVERY_INTERVAL_S = 1.0
"""Orders' saga sweep: often enough that a phase waits seconds, not the default 5 s."""
RESTART_POLICY = RestartPolicy(max_restarts=3, window_s=10.0, max_backoff_s=4.0)
"""A short window, so each phase's restart waits the first backoff (0.5 s) rather than
one doubled by the phases before it; three restarts of one process within 10 s still
give up, as a crash loop should."""
START_TIMEOUT_S = 60.0
DRAIN_DELAY_S, GRACE_S = 0.5, 5.0
STATEFUL = ("inventory", "payments", "orders")
QUIET_ENV = {
    "SHOPMESH_ACCESS_LOG": "0",
    "SHOPMESH_LOG_LEVEL": "WARNING",
    "SHOPMESH_SAGA_RECOVERY_INTERVAL_S": str(RECOVERY_INTERVAL_S),
}


@dataclass(frozen=True)
class Variant:
    name: str
    transport: str = GRPC
    impl: str = ""
    """"" (the manifest's, Python) or "go" (pricing and inventory in Go)."""
    storage: str = "sqlite"


VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        Variant("grpc"),
        Variant("rest", transport=REST),
        Variant("grpc-go", impl=GO),
        Variant("grpc-dynamodb", storage="dynamodb"),
    )
}


def cannot_run(variant: Variant) -> str | None:
    """Why the variant cannot run on this machine (one line), or None."""
    if variant.impl == GO:
        for spec in load_manifest().services:
            if spec.go is not None and not spec.go.binary_path.is_file():
                return f"{spec.go.binary} is not built (make go-build; needs Go and npm)"
    if variant.storage == "dynamodb" and importlib.util.find_spec("moto") is None:
        return "moto is not installed (it comes with the dev extras: make venv)"
    return None


class ChaosMesh:
    """A running mesh and the handles the faults and the checks need."""

    def __init__(self, variant: Variant, mesh: LocalMesh, relays: Mapping[str, Relay]) -> None:
        self.variant = variant
        self.mesh = mesh
        self.relays = relays

    def process(self, service: str) -> str:
        return process_name(service, self.variant.transport)

    def pid(self, service: str) -> int:
        return self.mesh.pids[self.process(service)]

    def signal(self, service: str, signum: signal.Signals) -> None:
        os.kill(self.pid(service), signum)

    def restarts(self, service: str) -> int:
        return self.mesh.restarts[self.process(service)]

    async def back(self, service: str, restarts: int, timeout_s: float) -> None:
        """Until the runner has restarted ``service`` and it is SERVING again."""
        await self.mesh.wait_until_serving(
            self.process(service), restarts=restarts, timeout_s=timeout_s
        )

    def checkout(self) -> Checkout:
        if self.variant.transport == REST:
            return RestCheckout(self.mesh.rest_url("orders"))
        return GrpcCheckout(self.mesh.address("orders"))

    def books(self) -> Books:
        if self.variant.transport == REST:
            return RestBooks(dict(self.mesh.rest_urls))
        return GrpcBooks(dict(self.mesh.addresses))


@asynccontextmanager
async def chaos_mesh(
    variant: Variant,
    data_dir: Path,
    *,
    orders_env: Mapping[str, str] | None = None,
    on_log: Callable[[str, str], None] = lambda _name, _line: None,
    on_event: Callable[[str], None] = lambda _: None,
) -> AsyncIterator[ChaosMesh]:
    """Starts the variant's mesh on free ports with its relays; stops both at the end.

    ``orders_env`` adds settings to orders alone (a fault-injection switch, say).
    """
    manifest = load_manifest_with_variants(load_manifest(), free_ports=True)
    services = {spec.name: spec for spec in manifest.services}

    def port(name: str) -> int:
        spec = services[name]
        return spec.rest_port if variant.transport == REST else spec.grpc_port

    relays = {name: Relay(name, port(name)) for name in services["orders"].depends_on}
    for relay in relays.values():
        await relay.start()
    extra: dict[str, dict[str, str]] = {
        "orders": {dependency_env_name(name): relay.address for name, relay in relays.items()}
    }
    extra["orders"].update(orders_env or {})
    try:
        with _storage(variant, extra):
            mesh = LocalMesh(
                manifest,
                host=HOST,
                data_dir=data_dir,
                only=("orders",),
                with_gateway=False,
                drain_delay_s=DRAIN_DELAY_S,
                grace_s=GRACE_S,
                start_timeout_s=START_TIMEOUT_S,
                base_env={**os.environ, **QUIET_ENV},
                on_log=on_log,
                on_event=on_event,
                transport=variant.transport,
                impl=variant.impl,
                restart_policy=RESTART_POLICY,
                extra_env=extra,
            )
            async with mesh:
                yield ChaosMesh(variant, mesh, relays)
    finally:
        await asyncio.gather(*(relay.close() for relay in relays.values()))


@contextlib.contextmanager
def _storage(variant: Variant, extra: dict[str, dict[str, str]]) -> Iterator[None]:
    """For the DynamoDB variant: a moto server for the block and a table per stateful
    service, named in that service's environment."""
    if variant.storage != "dynamodb":
        yield
        return
    from meshkit.storage.local_dynamodb import CREDENTIALS, REGION, create_table, local_moto

    with local_moto() as endpoint:
        for name in STATEFUL:
            extra.setdefault(name, {}).update(
                {
                    "SHOPMESH_STORAGE": "dynamodb",
                    "SHOPMESH_DYNAMODB_TABLE": create_table(endpoint, prefix=f"chaos-{name}"),
                    "SHOPMESH_DYNAMODB_ENDPOINT": endpoint,
                    "AWS_REGION": REGION,
                    "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
                    "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
                }
            )
        yield
