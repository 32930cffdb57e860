"""Payments settings: where charges are kept and which failures to inject."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from services.payments.domain import FailurePolicy
from services.runtime.config import ENV_PREFIX, ConfigError, StorageConfig, storage_from_env


@dataclass(frozen=True)
class PaymentsConfig:
    storage: StorageConfig
    failures: FailurePolicy = field(default_factory=FailurePolicy)


def _every(env: Mapping[str, str], name: str) -> int:
    raw = env.get(ENV_PREFIX + name, "0")
    if not raw.isdigit():
        raise ConfigError(f"{ENV_PREFIX}{name} must be a whole number (0 = never), got {raw!r}")
    return int(raw)


def payments_config_from_env(env: Mapping[str, str]) -> PaymentsConfig:
    """SHOPMESH_PAYMENTS_DECLINE_TOKENS (comma list), SHOPMESH_PAYMENTS_DECLINE_EVERY and
    SHOPMESH_PAYMENTS_UNAVAILABLE_EVERY inject failures for demos and saga tests."""
    tokens = env.get(f"{ENV_PREFIX}PAYMENTS_DECLINE_TOKENS", "tok_decline")
    policy = FailurePolicy(
        decline_tokens=frozenset(t.strip() for t in tokens.split(",") if t.strip()),
        decline_every=_every(env, "PAYMENTS_DECLINE_EVERY"),
        unavailable_every=_every(env, "PAYMENTS_UNAVAILABLE_EVERY"),
    )
    return PaymentsConfig(storage=storage_from_env(env), failures=policy)
