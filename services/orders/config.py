"""Orders settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from services.runtime.config import ENV_PREFIX, data_dir_from_env, number_from_env

DEFAULT_RECOVERY_INTERVAL_S = 5.0
"""How often unfinished sagas (a crash, or a dependency down mid-compensation) are swept."""
MIN_RECOVERY_INTERVAL_S = 0.01


@dataclass(frozen=True)
class OrdersConfig:
    database: Path
    recovery_interval_s: float = DEFAULT_RECOVERY_INTERVAL_S


def orders_config_from_env(env: Mapping[str, str]) -> OrdersConfig:
    interval = number_from_env(
        env,
        f"{ENV_PREFIX}SAGA_RECOVERY_INTERVAL_S",
        DEFAULT_RECOVERY_INTERVAL_S,
        minimum=MIN_RECOVERY_INTERVAL_S,
    )
    return OrdersConfig(
        database=data_dir_from_env(env) / "orders.sqlite3", recovery_interval_s=interval
    )
