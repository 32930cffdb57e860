"""Orders settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from services.runtime.config import ENV_PREFIX, ConfigError, data_dir_from_env

DEFAULT_RECOVERY_INTERVAL_S = 5.0
"""How often unfinished sagas (a crash, or a dependency down mid-compensation) are swept."""


@dataclass(frozen=True)
class OrdersConfig:
    database: Path
    recovery_interval_s: float = DEFAULT_RECOVERY_INTERVAL_S


def orders_config_from_env(env: Mapping[str, str]) -> OrdersConfig:
    raw = env.get(f"{ENV_PREFIX}SAGA_RECOVERY_INTERVAL_S", str(DEFAULT_RECOVERY_INTERVAL_S))
    try:
        interval = float(raw)
    except ValueError:
        interval = -1.0
    if interval <= 0:
        raise ConfigError(f"{ENV_PREFIX}SAGA_RECOVERY_INTERVAL_S must be > 0, got {raw!r}")
    return OrdersConfig(
        database=data_dir_from_env(env) / "orders.sqlite3", recovery_interval_s=interval
    )
