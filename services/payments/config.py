"""Payments settings: where charges are kept and which failures to inject."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from meshkit.env import EnvReader
from meshkit.storage.config import StorageConfig, storage_from_env
from services.payments.domain import FailurePolicy


@dataclass(frozen=True)
class PaymentsConfig:
    storage: StorageConfig
    failures: FailurePolicy = field(default_factory=FailurePolicy)


def payments_config_from_env(env: Mapping[str, str]) -> PaymentsConfig:
    """SHOPMESH_PAYMENTS_DECLINE_TOKENS (comma list), SHOPMESH_PAYMENTS_DECLINE_EVERY and
    SHOPMESH_PAYMENTS_UNAVAILABLE_EVERY (0 = never) inject failures for demos and saga
    tests."""
    read = EnvReader(env)
    policy = FailurePolicy(
        decline_tokens=frozenset(read.items("PAYMENTS_DECLINE_TOKENS", ("tok_decline",))),
        decline_every=read.integer("PAYMENTS_DECLINE_EVERY", 0),
        unavailable_every=read.integer("PAYMENTS_UNAVAILABLE_EVERY", 0),
    )
    return PaymentsConfig(storage=storage_from_env(env), failures=policy)
