"""Orders settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from meshkit.env import EnvReader
from meshkit.runtime.config import DEFAULT_STREAM_HEARTBEAT_S, stream_heartbeat_from_env
from meshkit.storage.config import StorageConfig, storage_from_env

DEFAULT_RECOVERY_INTERVAL_S = 5.0
"""How often unfinished sagas (a crash, or a dependency down mid-compensation) are swept."""
MIN_RECOVERY_INTERVAL_S = 0.01
FANOUTS = ("per-item", "batch")
"""How the REST baseline's saga calls catalog, pricing and inventory: one request per
line item, concurrently (3N+1 calls for N items), or the batch endpoints (4 calls)."""
GRPC_FANOUTS = ("stream", "batch", "per-item")
"""How the gRPC saga calls them: a batch call and bidi streams (4 calls), 4 unary batch
calls, or one unary call per item (3N+1)."""


@dataclass(frozen=True)
class OrdersConfig:
    storage: StorageConfig
    recovery_interval_s: float = DEFAULT_RECOVERY_INTERVAL_S
    rest_fanout: str = "per-item"
    grpc_fanout: str = "stream"
    stream_heartbeat_s: float = DEFAULT_STREAM_HEARTBEAT_S
    """How long WatchOrders stays quiet before it sends a heartbeat."""
    skip_stock_release: bool = False
    """Fault injection: compensation records stock as released without releasing it, a
    deliberately broken saga that the chaos suite's invariants must catch."""


def orders_config_from_env(env: Mapping[str, str]) -> OrdersConfig:
    """SHOPMESH_SAGA_RECOVERY_INTERVAL_S, SHOPMESH_REST_FANOUT, SHOPMESH_GRPC_FANOUT, the
    heartbeat, and SHOPMESH_ORDERS_SKIP_STOCK_RELEASE (fault injection, off by default)."""
    read = EnvReader(env)
    return OrdersConfig(
        storage=storage_from_env(env),
        recovery_interval_s=read.number(
            "SAGA_RECOVERY_INTERVAL_S",
            DEFAULT_RECOVERY_INTERVAL_S,
            minimum=MIN_RECOVERY_INTERVAL_S,
        ),
        rest_fanout=read.choice("REST_FANOUT", "per-item", FANOUTS),
        grpc_fanout=read.choice("GRPC_FANOUT", "stream", GRPC_FANOUTS),
        stream_heartbeat_s=stream_heartbeat_from_env(env),
        skip_stock_release=read.flag("ORDERS_SKIP_STOCK_RELEASE", False),
    )
