"""The gateway process's one typed config, read from the environment in ``__main__``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from gateway.admin import check_admin_keys
from gateway.app import TranscoderConfig
from gateway.descriptors import DEFAULT_DESCRIPTORS
from gateway.edge.config import EdgeConfig, edge_config_from_env
from meshkit.env import GATEWAY_ENV_PREFIX, EnvReader, dependency_env_name
from meshkit.manifest import Manifest
from meshkit.runtime.tracing import TracingConfig, tracing_from_env

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
    admin_routes: bool = False
    """Route ADMIN RPCs too, each behind an API key (``gateway.admin``); public ones only
    otherwise. INTERNAL RPCs are never routed."""

    def __post_init__(self) -> None:
        check_admin_keys(self.admin_routes, self.edge)


def gateway_config_from_env(manifest: Manifest, env: Mapping[str, str]) -> GatewayConfig:
    """Upstream addresses follow the services' convention: ``SHOPMESH_<NAME>_ADDR``,
    defaulting to ``<name>:<grpc port>``; everything else is ``GATEWAY_*``."""
    upstreams = {
        proto: env.get(dependency_env_name(spec.name), f"{spec.name}:{spec.grpc_port}")
        for spec in manifest.services
        for proto in spec.proto_services
    }
    read = EnvReader(env, GATEWAY_ENV_PREFIX)
    transcoder = TranscoderConfig(
        default_deadline_s=read.number("DEFAULT_DEADLINE_S", 10.0, minimum=MIN_DEADLINE_S),
        max_deadline_s=read.number("MAX_DEADLINE_S", 30.0, minimum=MIN_DEADLINE_S),
        stream_default_deadline_s=read.number(
            "STREAM_DEFAULT_DEADLINE_S", 300.0, minimum=MIN_DEADLINE_S
        ),
        stream_max_deadline_s=read.number("STREAM_MAX_DEADLINE_S", 3600.0, minimum=MIN_DEADLINE_S),
    )
    return GatewayConfig(
        upstreams=upstreams,
        host=read.text("HOST", "0.0.0.0"),  # noqa: S104 - see GatewayConfig.host
        port=read.port("PORT", DEFAULT_PORT),
        descriptors=Path(read.text("DESCRIPTORS", str(DEFAULT_DESCRIPTORS))),
        transcoder=transcoder,
        edge=edge_config_from_env(env),
        tracing=tracing_from_env(env, "gateway"),
        log_level=read.text("LOG_LEVEL", "INFO").upper(),
        admin_routes=read.flag("ADMIN_ROUTES", False),
    )
