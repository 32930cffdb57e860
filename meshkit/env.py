"""Reading settings from environment variables: the one set of parsers every process uses.

Each process builds its one frozen config in ``__main__`` from ``os.environ`` through an
``EnvReader``; nothing deeper reads the environment. Unset or blank means the default; a
malformed value raises ``ConfigError`` naming the variable (never echoing a secret).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

ENV_PREFIX = "SHOPMESH_"
"""Prefix of the variables every mesh service reads."""
GATEWAY_ENV_PREFIX = "GATEWAY_"
"""Prefix of the gateway's own variables (its upstreams' addresses are ``SHOPMESH_``)."""


class ConfigError(ValueError):
    """A configuration value is missing or malformed; the message names it."""


def dependency_env_name(dependency: str) -> str:
    """The variable that overrides a dependency's address, e.g. SHOPMESH_PRICING_ADDR."""
    return f"{ENV_PREFIX}{dependency.upper().replace('-', '_')}_ADDR"


def parse_number(raw: str, label: str, *, minimum: float = 0.0) -> float:
    """``raw`` as a finite number >= ``minimum``; ConfigError naming ``label`` otherwise."""
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{label} must be a number, got {raw!r}") from None
    if not math.isfinite(value) or value < minimum:
        raise ConfigError(f"{label} must be a finite number >= {minimum}, got {raw!r}")
    return value


class EnvReader:
    """Typed reads of ``<prefix><key>`` variables from one environment mapping."""

    def __init__(self, env: Mapping[str, str], prefix: str = ENV_PREFIX) -> None:
        self.env = env
        self.prefix = prefix

    def name(self, key: str) -> str:
        """The full variable name of ``key``."""
        return self.prefix + key

    def raw(self, key: str) -> str | None:
        """The stripped value, or None when the variable is unset or blank."""
        value = self.env.get(self.name(key))
        return None if value is None or not value.strip() else value.strip()

    def text(self, key: str, default: str) -> str:
        raw = self.raw(key)
        return default if raw is None else raw

    def number(self, key: str, default: float, *, minimum: float = 0.0) -> float:
        raw = self.raw(key)
        return default if raw is None else parse_number(raw, self.name(key), minimum=minimum)

    def integer(
        self, key: str, default: int, *, minimum: int = 0, maximum: int | None = None
    ) -> int:
        raw = self.raw(key)
        if raw is None:
            return default
        if not raw.isdigit() or int(raw) < minimum or (maximum is not None and int(raw) > maximum):
            bounds = f"{minimum}..{maximum}" if maximum is not None else f">= {minimum}"
            raise ConfigError(f"{self.name(key)} must be an integer {bounds}, got {raw!r}")
        return int(raw)

    def port(self, key: str, default: int) -> int:
        raw = self.raw(key)
        if raw is None:
            return default
        if not raw.isdigit() or int(raw) > 65535:
            raise ConfigError(f"{self.name(key)} must be a TCP port (0-65535), got {raw!r}")
        return int(raw)

    def flag(self, key: str, default: bool) -> bool:
        raw = self.raw(key)
        if raw is None:
            return default
        value = raw.lower()
        if value not in {"1", "0", "true", "false", "yes", "no"}:
            raise ConfigError(f"{self.name(key)} must be a boolean, got {raw!r}")
        return value in {"1", "true", "yes"}

    def choice(self, key: str, default: str, choices: Sequence[str]) -> str:
        """One of ``choices`` (compared in lower case)."""
        raw = self.raw(key)
        value = default if raw is None else raw.lower()
        if value not in choices:
            raise ConfigError(f"{self.name(key)} must be {_one_of(choices)}, got {value!r}")
        return value

    def items(self, key: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        """A comma-separated list, blank entries dropped."""
        raw = self.raw(key)
        if raw is None:
            return default
        return tuple(item.strip() for item in raw.split(",") if item.strip())


def _one_of(choices: Sequence[str]) -> str:
    quoted = list(choices)
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"
