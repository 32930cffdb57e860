"""The edge's one frozen configuration object, and how ``__main__`` builds it.

``edge_config_from_env`` reads ``GATEWAY_*`` variables (nothing deeper reads the
environment); a malformed value fails by its variable's name. Secrets (API keys, bearer
tokens) can come inline or from a file, so a mounted secret never needs to sit in the
task definition, and they are never part of an error message or a repr.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from meshkit.env import GATEWAY_ENV_PREFIX, ConfigError, EnvReader, parse_number
from meshkit.probes import LIVENESS_PATH
from meshkit.runtime.config import DEFAULT_DRAIN_DELAY_S, DEFAULT_GRACE_S

ENV_PREFIX = GATEWAY_ENV_PREFIX

AuthRule = Literal["none", "api_key", "bearer"]
AUTH_RULES: tuple[AuthRule, ...] = ("none", "api_key", "bearer")

DEFAULT_MAX_HEADER_BYTES = 16 * 1024
"""Request header block (names + values), as h11's default event limit."""
DEFAULT_MAX_HEADER_COUNT = 100
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
"""Whole JSON request body. NDJSON stream bodies are bounded per line by the transcoder."""
DEFAULT_HEADER_TIMEOUT_S = 10.0
"""From a request's first byte (or the connection's start) to its complete head (C24)."""
DEFAULT_BODY_TIMEOUT_S = 30.0
"""Whole JSON body: 1 MiB at 300 kbit/s still arrives (C25)."""
DEFAULT_STREAM_IDLE_TIMEOUT_S = 60.0
"""Longest silence between chunks of a streamed NDJSON request body."""
DEFAULT_KEEP_ALIVE_S = 5
"""Idle keep-alive connection lifetime; behind a proxy, set it above the proxy's."""
DEFAULT_MAX_CONCURRENCY = 512
DEFAULT_CONCURRENCY_RETRY_AFTER_S = 1
DEFAULT_RATE_PER_S = 50.0
DEFAULT_RATE_BURST = 100
DEFAULT_RATE_MAX_CLIENTS = 10_000
DEFAULT_CACHE_MAX_ENTRIES = 1024
DEFAULT_CACHE_MAX_ENTRY_BYTES = 256 * 1024
DEFAULT_CORS_ALLOW_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
DEFAULT_CORS_ALLOW_HEADERS = (
    "authorization",
    "content-type",
    "idempotency-key",
    "traceparent",
    "tracestate",
    "x-api-key",
    "x-request-id",
)
DEFAULT_CORS_EXPOSE_HEADERS = ("age", "retry-after", "x-cache", "x-request-id")
DEFAULT_CORS_MAX_AGE_S = 600
DEFAULT_HEALTH_PATH = LIVENESS_PATH
DEFAULT_DRAIN_GRACE_S = DEFAULT_DRAIN_DELAY_S
"""After a drain starts: /healthz already 503, requests still served while proxies stop
routing here (the services' drain delay)."""
DEFAULT_SHUTDOWN_GRACE_S = DEFAULT_GRACE_S
"""Then: how long in-flight requests get to finish (the services' grace)."""
DEFAULT_FORWARDED_ALLOW_IPS = ("127.0.0.1",)
"""Peers whose X-Forwarded-For uvicorn trusts for the client address (rate-limit key)."""
MIN_SECRET_LENGTH = 16

_CLIENT_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


@dataclass(frozen=True)
class Credential:
    """An accepted API key or bearer token and the client it identifies."""

    client_id: str
    secret: str = field(repr=False)


@dataclass(frozen=True)
class EdgeConfig:
    """Every limit and policy of the edge; defaults are the named constants above."""

    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES
    max_header_count: int = DEFAULT_MAX_HEADER_COUNT
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    header_timeout_s: float = DEFAULT_HEADER_TIMEOUT_S
    body_timeout_s: float = DEFAULT_BODY_TIMEOUT_S
    stream_idle_timeout_s: float = DEFAULT_STREAM_IDLE_TIMEOUT_S
    keep_alive_s: int = DEFAULT_KEEP_ALIVE_S
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    """Requests in flight at once; 0 = unlimited."""
    concurrency_retry_after_s: int = DEFAULT_CONCURRENCY_RETRY_AFTER_S
    auth_default: AuthRule = "none"
    auth_routes: tuple[tuple[str, AuthRule], ...] = ()
    """Path prefix → rule; the longest matching prefix wins over ``auth_default``."""
    api_keys: tuple[Credential, ...] = ()
    bearer_tokens: tuple[Credential, ...] = ()
    auth_realm: str = "shopmesh"
    rate_per_s: float = DEFAULT_RATE_PER_S
    """Token refill rate per client; 0 switches rate limiting off."""
    rate_burst: int = DEFAULT_RATE_BURST
    rate_max_clients: int = DEFAULT_RATE_MAX_CLIENTS
    cache_ttls: tuple[tuple[str, float], ...] = ()
    """Path prefix → TTL seconds for GET responses; no matching prefix = not cached."""
    cache_max_entries: int = DEFAULT_CACHE_MAX_ENTRIES
    cache_max_entry_bytes: int = DEFAULT_CACHE_MAX_ENTRY_BYTES
    cors_origins: tuple[str, ...] = ()
    """Allowed origins, or ("*",); empty switches CORS off."""
    cors_allow_methods: tuple[str, ...] = DEFAULT_CORS_ALLOW_METHODS
    cors_allow_headers: tuple[str, ...] = DEFAULT_CORS_ALLOW_HEADERS
    cors_expose_headers: tuple[str, ...] = DEFAULT_CORS_EXPOSE_HEADERS
    cors_max_age_s: int = DEFAULT_CORS_MAX_AGE_S
    health_path: str = DEFAULT_HEALTH_PATH
    drain_grace_s: float = DEFAULT_DRAIN_GRACE_S
    shutdown_grace_s: float = DEFAULT_SHUTDOWN_GRACE_S
    forwarded_allow_ips: tuple[str, ...] = DEFAULT_FORWARDED_ALLOW_IPS

    def __post_init__(self) -> None:
        rules = {self.auth_default, *(rule for _, rule in self.auth_routes)}
        if not rules <= set(AUTH_RULES):
            raise ConfigError(f"auth rules must be one of {AUTH_RULES}, got {sorted(rules)}")
        for rule, creds, source in (
            ("api_key", self.api_keys, "GATEWAY_API_KEYS or GATEWAY_API_KEYS_FILE"),
            ("bearer", self.bearer_tokens, "GATEWAY_BEARER_TOKENS or GATEWAY_BEARER_TOKENS_FILE"),
        ):
            if rule in rules and not creds:
                raise ConfigError(f"auth rule {rule!r} is used but no secrets are set ({source})")
            _check_credentials(creds, source)
        for prefix, _ in (*self.auth_routes, *self.cache_ttls):
            if not prefix.startswith("/"):
                raise ConfigError(f"route prefixes must start with '/', got {prefix!r}")
        if "*" in self.cors_origins and len(self.cors_origins) > 1:
            raise ConfigError("cors_origins is either '*' alone or a list of origins")


def _check_credentials(creds: tuple[Credential, ...], source: str) -> None:
    """Client ids are log-safe names; secrets are long enough and unambiguous."""
    seen: set[str] = set()
    for number, cred in enumerate(creds, 1):
        if not _CLIENT_ID.fullmatch(cred.client_id):
            raise ConfigError(f"{source} entry {number}: client id must match {_CLIENT_ID.pattern}")
        if len(cred.secret) < MIN_SECRET_LENGTH:
            raise ConfigError(
                f"{source} entry {number}: secret has fewer than {MIN_SECRET_LENGTH} characters"
            )
        if cred.secret in seen:
            raise ConfigError(f"{source} entry {number}: secret repeats an earlier entry's")
        seen.add(cred.secret)


def _rule(value: str, name: str) -> AuthRule:
    if value not in AUTH_RULES:
        raise ConfigError(f"{ENV_PREFIX}{name}: auth rule must be one of {AUTH_RULES}")
    return value


def _prefix_map(read: EnvReader, name: str) -> list[tuple[str, str]]:
    """``/prefix=value,/other=value`` pairs."""
    pairs = []
    for item in read.items(name):
        prefix, sep, value = item.partition("=")
        if not sep or not prefix.strip().startswith("/") or not value.strip():
            raise ConfigError(f"{ENV_PREFIX}{name} entries must be /prefix=value, got {item!r}")
        pairs.append((prefix.strip(), value.strip()))
    return pairs


def _credentials(read: EnvReader, name: str) -> tuple[Credential, ...]:
    """``client:secret`` entries, comma-separated inline or one per line in ``<name>_FILE``.

    Error messages name the variable and the entry's number, never its text.
    """
    inline, path = read.raw(name), read.raw(name + "_FILE")
    if inline is not None and path is not None:
        raise ConfigError(f"set {ENV_PREFIX}{name} or {ENV_PREFIX}{name}_FILE, not both")
    if path is not None:
        source = f"{ENV_PREFIX}{name}_FILE"
        try:
            entries = Path(path).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{source}: cannot read {path!r} ({type(exc).__name__})") from None
    else:
        source, entries = f"{ENV_PREFIX}{name}", (inline or "").split(",")
    creds = []
    for number, entry in enumerate(entries, 1):
        if not entry.strip() or entry.lstrip().startswith("#"):
            continue
        client_id, sep, secret = entry.strip().partition(":")
        if not sep or not client_id.strip() or not secret.strip():
            raise ConfigError(f"{source} entry {number} must be client:secret")
        creds.append(Credential(client_id.strip(), secret.strip()))
    return tuple(creds)


def edge_config_from_env(env: Mapping[str, str]) -> EdgeConfig:
    """Builds the edge configuration from ``GATEWAY_*`` variables; unset means default."""
    read = EnvReader(env, ENV_PREFIX)
    auth_routes = tuple(
        (prefix, _rule(rule, "AUTH_ROUTES")) for prefix, rule in _prefix_map(read, "AUTH_ROUTES")
    )
    cache_ttls = tuple(
        (prefix, parse_number(ttl, f"{ENV_PREFIX}CACHE_TTLS ({prefix})", minimum=0.001))
        for prefix, ttl in _prefix_map(read, "CACHE_TTLS")
    )
    return EdgeConfig(
        max_header_bytes=read.integer("MAX_HEADER_BYTES", DEFAULT_MAX_HEADER_BYTES, minimum=1024),
        max_header_count=read.integer("MAX_HEADER_COUNT", DEFAULT_MAX_HEADER_COUNT, minimum=8),
        max_body_bytes=read.integer("MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, minimum=1),
        header_timeout_s=read.number("HEADER_TIMEOUT_S", DEFAULT_HEADER_TIMEOUT_S, minimum=0.001),
        body_timeout_s=read.number("BODY_TIMEOUT_S", DEFAULT_BODY_TIMEOUT_S, minimum=0.001),
        stream_idle_timeout_s=read.number(
            "STREAM_IDLE_TIMEOUT_S", DEFAULT_STREAM_IDLE_TIMEOUT_S, minimum=0.001
        ),
        keep_alive_s=read.integer("KEEP_ALIVE_S", DEFAULT_KEEP_ALIVE_S, minimum=1),
        max_concurrency=read.integer("MAX_CONCURRENCY", DEFAULT_MAX_CONCURRENCY, minimum=0),
        concurrency_retry_after_s=read.integer(
            "CONCURRENCY_RETRY_AFTER_S", DEFAULT_CONCURRENCY_RETRY_AFTER_S, minimum=0
        ),
        auth_default=_rule(read.raw("AUTH_DEFAULT") or "none", "AUTH_DEFAULT"),
        auth_routes=auth_routes,
        api_keys=_credentials(read, "API_KEYS"),
        bearer_tokens=_credentials(read, "BEARER_TOKENS"),
        auth_realm=read.raw("AUTH_REALM") or "shopmesh",
        rate_per_s=read.number("RATE_LIMIT_PER_S", DEFAULT_RATE_PER_S, minimum=0.0),
        rate_burst=read.integer("RATE_LIMIT_BURST", DEFAULT_RATE_BURST, minimum=1),
        rate_max_clients=read.integer(
            "RATE_LIMIT_MAX_CLIENTS", DEFAULT_RATE_MAX_CLIENTS, minimum=1
        ),
        cache_ttls=cache_ttls,
        cache_max_entries=read.integer("CACHE_MAX_ENTRIES", DEFAULT_CACHE_MAX_ENTRIES, minimum=1),
        cache_max_entry_bytes=read.integer(
            "CACHE_MAX_ENTRY_BYTES", DEFAULT_CACHE_MAX_ENTRY_BYTES, minimum=1
        ),
        cors_origins=read.items("CORS_ORIGINS"),
        cors_allow_headers=read.items("CORS_ALLOW_HEADERS", DEFAULT_CORS_ALLOW_HEADERS),
        cors_max_age_s=read.integer("CORS_MAX_AGE_S", DEFAULT_CORS_MAX_AGE_S, minimum=0),
        drain_grace_s=read.number("DRAIN_GRACE_S", DEFAULT_DRAIN_GRACE_S, minimum=0.0),
        shutdown_grace_s=read.number("SHUTDOWN_GRACE_S", DEFAULT_SHUTDOWN_GRACE_S, minimum=0.0),
        forwarded_allow_ips=read.items("FORWARDED_ALLOW_IPS", DEFAULT_FORWARDED_ALLOW_IPS),
    )
