"""The gateway process's one typed config, read from the environment in ``__main__``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from gateway.app import TranscoderConfig
from gateway.descriptors import DEFAULT_DESCRIPTORS
from gateway.edge.config import EdgeConfig, edge_config_from_env
from services.manifest import Manifest
from services.runtime.config import (
    ConfigError,
    TracingConfig,
    dependency_env_name,
    number_from_env,
    tracing_from_env,
)

DEFAULT_PORT = 8080
MIN_DEADLINE_S = 0.001


@dataclass(frozen=True)
class GatewayConfig:
    upstreams: Mapping[str, str]
    """Full gRPC service name → address (the Service Connect alias on AWS)."""
    host: str = "0.0.0.0"  # noqa: S104 - the edge listens on its interface
    port: int = DEFAULT_PORT
    descriptors: Path = DEFAULT_DESCRIPTORS
    transcoder: TranscoderConfig = field(default_factory=TranscoderConfig)
    edge: EdgeConfig = field(default_factory=EdgeConfig)
    tracing: TracingConfig = field(default_factory=TracingConfig)
    log_level: str = "INFO"


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    return number_from_env(env, name, default, minimum=MIN_DEADLINE_S)


def gateway_config_from_env(manifest: Manifest, env: Mapping[str, str]) -> GatewayConfig:
    """Upstream addresses follow the services' convention: ``SHOPMESH_<NAME>_ADDR``,
    defaulting to ``<name>:<grpc port>``; everything else is ``GATEWAY_*``."""
    upstreams = {
        proto: env.get(dependency_env_name(spec.name), f"{spec.name}:{spec.grpc_port}")
        for spec in manifest.services
        for proto in spec.proto_services
    }
    raw_port = env.get("GATEWAY_PORT", str(DEFAULT_PORT))
    if not raw_port.isdigit() or int(raw_port) > 65535:
        raise ConfigError(f"GATEWAY_PORT must be a TCP port, got {raw_port!r}")
    transcoder = TranscoderConfig(
        default_deadline_s=_seconds(env, "GATEWAY_DEFAULT_DEADLINE_S", 10.0),
        max_deadline_s=_seconds(env, "GATEWAY_MAX_DEADLINE_S", 30.0),
        stream_default_deadline_s=_seconds(env, "GATEWAY_STREAM_DEFAULT_DEADLINE_S", 300.0),
        stream_max_deadline_s=_seconds(env, "GATEWAY_STREAM_MAX_DEADLINE_S", 3600.0),
    )
    return GatewayConfig(
        upstreams=upstreams,
        host=env.get("GATEWAY_HOST", "0.0.0.0"),  # noqa: S104 - see GatewayConfig.host
        port=int(raw_port),
        descriptors=Path(env.get("GATEWAY_DESCRIPTORS", str(DEFAULT_DESCRIPTORS))),
        transcoder=transcoder,
        edge=edge_config_from_env(env),
        tracing=tracing_from_env(env, "gateway"),
        log_level=env.get("GATEWAY_LOG_LEVEL", "INFO").upper(),
    )
