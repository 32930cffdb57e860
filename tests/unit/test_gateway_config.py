"""The gateway's own settings: admin routes are off by default and need an API key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.config import GatewayConfig, gateway_config_from_env
from gateway.edge.config import Credential, EdgeConfig
from meshkit.env import ConfigError
from meshkit.manifest import load_manifest

REPO = Path(__file__).resolve().parents[2]
KEY = "ops:key-0123456789abcdef"


def test_admin_routes_are_off_by_default() -> None:
    """No GATEWAY_ADMIN_ROUTES means public routes only."""
    assert gateway_config_from_env(load_manifest(), {}).admin_routes is False


@pytest.mark.parametrize("value", ["1", "true", "yes"])
def test_admin_routes_are_read_with_an_api_key(value: str) -> None:
    """GATEWAY_ADMIN_ROUTES on, with GATEWAY_API_KEYS set, turns admin routes on."""
    env = {"GATEWAY_ADMIN_ROUTES": value, "GATEWAY_API_KEYS": KEY}
    config = gateway_config_from_env(load_manifest(), env)
    assert config.admin_routes is True
    assert [c.client_id for c in config.edge.api_keys] == ["ops"]


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"GATEWAY_ADMIN_ROUTES": "1"}, "GATEWAY_API_KEYS or GATEWAY_API_KEYS_FILE"),
        (
            {"GATEWAY_ADMIN_ROUTES": "1", "GATEWAY_BEARER_TOKENS": KEY},
            "GATEWAY_API_KEYS or GATEWAY_API_KEYS_FILE",
        ),
        ({"GATEWAY_ADMIN_ROUTES": "maybe", "GATEWAY_API_KEYS": KEY}, "GATEWAY_ADMIN_ROUTES"),
    ],
)
def test_admin_routes_without_an_api_key_are_a_configuration_error(
    env: dict[str, str], named: str
) -> None:
    """Admin routes with no API key to accept (bearer tokens do not count), or a value
    that is no boolean, fail by the settings' names."""
    with pytest.raises(ConfigError, match="GATEWAY_ADMIN_ROUTES") as raised:
        gateway_config_from_env(load_manifest(), env)
    assert named in str(raised.value)


def test_config_object_refuses_admin_routes_without_keys() -> None:
    """The check holds for a config built in code too, not only from the environment."""
    with pytest.raises(ConfigError):
        GatewayConfig(upstreams={}, admin_routes=True)
    keyed = EdgeConfig(api_keys=(Credential("ops", "key-0123456789abcdef"),))
    assert GatewayConfig(upstreams={}, edge=keyed, admin_routes=True).admin_routes


def test_gateway_with_admin_routes_and_no_key_exits_2_in_one_line() -> None:
    """python -m gateway with GATEWAY_ADMIN_ROUTES=1 and no API key exits 2 with one line
    naming the settings, before it serves anything."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("GATEWAY_", "SHOPMESH_"))
    }
    env |= {"GATEWAY_ADMIN_ROUTES": "1", "GATEWAY_PORT": "0"}
    done = subprocess.run(
        [sys.executable, "-m", "gateway"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("gateway: configuration error: GATEWAY_ADMIN_ROUTES is on")
    assert "GATEWAY_API_KEYS or GATEWAY_API_KEYS_FILE" in lines[0]
