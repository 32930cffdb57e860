"""EdgeConfig from GATEWAY_* variables: defaults, secrets inline or from a file, errors by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.edge.config import (
    DEFAULT_MAX_BODY_BYTES,
    Credential,
    EdgeConfig,
    edge_config_from_env,
)
from meshkit.env import ConfigError

KEY_A = "key-a-0123456789abcdef"
KEY_B = "key-b-0123456789abcdef"


def test_empty_environment_gives_defaults() -> None:
    """No variable set means the named-constant defaults, auth off, cache and CORS off."""
    config = edge_config_from_env({})
    assert config == EdgeConfig()
    assert config.max_body_bytes == DEFAULT_MAX_BODY_BYTES
    assert config.auth_default == "none"
    assert config.cache_ttls == ()
    assert config.cors_origins == ()


def test_every_documented_variable_is_read() -> None:
    """Each GATEWAY_* variable lands in its field."""
    config = edge_config_from_env(
        {
            "GATEWAY_MAX_HEADER_BYTES": "4096",
            "GATEWAY_MAX_HEADER_COUNT": "20",
            "GATEWAY_MAX_BODY_BYTES": "2048",
            "GATEWAY_HEADER_TIMEOUT_S": "2.5",
            "GATEWAY_BODY_TIMEOUT_S": "3",
            "GATEWAY_STREAM_IDLE_TIMEOUT_S": "7",
            "GATEWAY_KEEP_ALIVE_S": "75",
            "GATEWAY_MAX_CONCURRENCY": "0",
            "GATEWAY_CONCURRENCY_RETRY_AFTER_S": "2",
            "GATEWAY_AUTH_DEFAULT": "api_key",
            "GATEWAY_AUTH_ROUTES": "/v1/products=none, /v1/charges=bearer",
            "GATEWAY_API_KEYS": f"web:{KEY_A},batch:{KEY_B}",
            "GATEWAY_BEARER_TOKENS": f"ops:{KEY_A}",
            "GATEWAY_AUTH_REALM": "shop",
            "GATEWAY_RATE_LIMIT_PER_S": "0",
            "GATEWAY_RATE_LIMIT_BURST": "9",
            "GATEWAY_RATE_LIMIT_MAX_CLIENTS": "99",
            "GATEWAY_CACHE_TTLS": "/v1/products=30,/v1/stock=0.5",
            "GATEWAY_CACHE_MAX_ENTRIES": "10",
            "GATEWAY_CACHE_MAX_ENTRY_BYTES": "1000",
            "GATEWAY_CORS_ORIGINS": "https://a.example, https://b.example",
            "GATEWAY_CORS_ALLOW_HEADERS": "content-type,x-api-key",
            "GATEWAY_CORS_MAX_AGE_S": "60",
            "GATEWAY_DRAIN_GRACE_S": "1",
            "GATEWAY_SHUTDOWN_GRACE_S": "4",
            "GATEWAY_FORWARDED_ALLOW_IPS": "10.0.0.0/8,127.0.0.1",
        }
    )
    assert config == EdgeConfig(
        max_header_bytes=4096,
        max_header_count=20,
        max_body_bytes=2048,
        header_timeout_s=2.5,
        body_timeout_s=3.0,
        stream_idle_timeout_s=7.0,
        keep_alive_s=75,
        max_concurrency=0,
        concurrency_retry_after_s=2,
        auth_default="api_key",
        auth_routes=(("/v1/products", "none"), ("/v1/charges", "bearer")),
        api_keys=(Credential("web", KEY_A), Credential("batch", KEY_B)),
        bearer_tokens=(Credential("ops", KEY_A),),
        auth_realm="shop",
        rate_per_s=0.0,
        rate_burst=9,
        rate_max_clients=99,
        cache_ttls=(("/v1/products", 30.0), ("/v1/stock", 0.5)),
        cache_max_entries=10,
        cache_max_entry_bytes=1000,
        cors_origins=("https://a.example", "https://b.example"),
        cors_allow_headers=("content-type", "x-api-key"),
        cors_max_age_s=60,
        drain_grace_s=1.0,
        shutdown_grace_s=4.0,
        forwarded_allow_ips=("10.0.0.0/8", "127.0.0.1"),
    )


def test_api_keys_file_is_read_one_per_line(tmp_path: Path) -> None:
    """A mounted secret file: one client:key per line, blank lines and # comments skipped."""
    secret = tmp_path / "keys"
    secret.write_text(f"# rotated 2026-11\nweb:{KEY_A}\n\nbatch: {KEY_B}\n", encoding="utf-8")
    config = edge_config_from_env({"GATEWAY_API_KEYS_FILE": str(secret)})
    assert config.api_keys == (Credential("web", KEY_A), Credential("batch", KEY_B))


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"GATEWAY_MAX_BODY_BYTES": "1MB"}, "GATEWAY_MAX_BODY_BYTES"),
        ({"GATEWAY_HEADER_TIMEOUT_S": "nan"}, "GATEWAY_HEADER_TIMEOUT_S"),
        ({"GATEWAY_BODY_TIMEOUT_S": "0"}, "GATEWAY_BODY_TIMEOUT_S"),
        ({"GATEWAY_RATE_LIMIT_PER_S": "-1"}, "GATEWAY_RATE_LIMIT_PER_S"),
        ({"GATEWAY_AUTH_DEFAULT": "basic"}, "GATEWAY_AUTH_DEFAULT"),
        ({"GATEWAY_AUTH_ROUTES": "v1=none"}, "GATEWAY_AUTH_ROUTES"),
        ({"GATEWAY_CACHE_TTLS": "/v1/products=soon"}, "GATEWAY_CACHE_TTLS"),
        ({"GATEWAY_AUTH_DEFAULT": "api_key"}, "GATEWAY_API_KEYS"),
        ({"GATEWAY_AUTH_ROUTES": "/v1=bearer"}, "GATEWAY_BEARER_TOKENS"),
        ({"GATEWAY_API_KEYS_FILE": "/nonexistent/keys"}, "GATEWAY_API_KEYS_FILE"),
        ({"GATEWAY_API_KEYS": f"web:{KEY_A}", "GATEWAY_API_KEYS_FILE": "/x"}, "GATEWAY_API_KEYS"),
        ({"GATEWAY_CORS_ORIGINS": "*,https://a.example"}, "cors_origins"),
    ],
)
def test_malformed_value_fails_naming_its_variable(env: dict[str, str], named: str) -> None:
    """A bad value raises ConfigError whose message names the variable (or field)."""
    with pytest.raises(ConfigError, match=named):
        edge_config_from_env(env)


@pytest.mark.parametrize(
    "entry",
    [
        "web-no-colon-0123456789abcdef",
        "web:short",
        "bad client:0123456789abcdef0123",
        f"web:{KEY_A},other:{KEY_A}",
    ],
)
def test_malformed_secret_fails_without_echoing_it(entry: str) -> None:
    """A bad key entry is reported by variable and position; no part of the entry is shown."""
    with pytest.raises(ConfigError, match=r"GATEWAY_API_KEYS.* entry \d") as caught:
        edge_config_from_env({"GATEWAY_API_KEYS": entry})
    for part in entry.replace(",", ":").split(":"):
        assert part not in str(caught.value)


def test_repr_never_shows_secrets() -> None:
    """Logging the config (or an exception showing it) cannot leak a key."""
    config = EdgeConfig(auth_default="api_key", api_keys=(Credential("web", KEY_A),))
    assert KEY_A not in repr(config)
    assert "web" in repr(config)
