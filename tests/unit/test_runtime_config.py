"""Runtime configuration comes from SHOPMESH_* variables; bad values fail by name."""

from __future__ import annotations

import pytest

from meshkit.env import ConfigError
from meshkit.manifest import load_manifest
from meshkit.runtime.config import runtime_config_from_env


def test_defaults_come_from_the_manifest_and_service_connect_aliases() -> None:
    """With an empty environment, ports are the manifest's and dependencies are aliases."""
    config = runtime_config_from_env(load_manifest(), "orders", {})
    assert (config.grpc_port, config.health_port) == (50055, 8055)
    assert config.dependencies["pricing"] == "pricing:50052"
    assert config.tracing.exporter == "none"


def test_sampler_ratio_comes_from_the_standard_variables() -> None:
    """OTEL_TRACES_SAMPLER=parentbased_traceidratio samples OTEL_TRACES_SAMPLER_ARG."""
    env = {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.1"}
    assert runtime_config_from_env(load_manifest(), "catalog", env).tracing.sample_ratio == 0.1


def test_environment_overrides_ports_addresses_and_tracing() -> None:
    """Variables override ports and dependency addresses; OTEL_* switch tracing on."""
    env = {
        "SHOPMESH_GRPC_PORT": "0",
        "SHOPMESH_PRICING_ADDR": "127.0.0.1:6000",
        "OTEL_TRACES_EXPORTER": "console",
        "OTEL_SERVICE_NAME": "orders-eu",
    }
    config = runtime_config_from_env(load_manifest(), "orders", env)
    assert config.grpc_port == 0
    assert config.dependencies["pricing"] == "127.0.0.1:6000"
    assert (config.tracing.exporter, config.tracing.service_name) == ("console", "orders-eu")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SHOPMESH_GRPC_PORT", "70000"),
        ("SHOPMESH_GRACE_S", "soon"),
        ("SHOPMESH_DRAIN_DELAY_S", "-1"),
        ("SHOPMESH_ACCESS_LOG", "maybe"),
        ("OTEL_TRACES_EXPORTER", "zipkin"),
        ("OTEL_TRACES_SAMPLER", "sometimes"),
    ],
)
def test_malformed_values_fail_naming_the_variable(name: str, value: str) -> None:
    """A malformed value raises ConfigError whose message names the variable."""
    with pytest.raises(ConfigError) as caught:
        runtime_config_from_env(load_manifest(), "catalog", {name: value})
    assert name in str(caught.value)
