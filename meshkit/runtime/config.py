"""Typed runtime configuration of a service process, one frozen object per process.

``runtime_config_from_env`` is called from a service's ``__main__`` with ``os.environ``;
nothing deeper reads the environment. Missing or malformed values fail by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from meshkit.env import ConfigError, EnvReader, dependency_env_name
from meshkit.manifest import Manifest
from meshkit.runtime.tracing import TracingConfig, tracing_from_env

DEFAULT_DRAIN_DELAY_S = 5.0
"""Time between health turning NOT_SERVING and the listener closing: long enough for
Service Connect/Lattice to stop routing new requests here."""
DEFAULT_GRACE_S = 10.0
"""How long in-flight calls get to finish once the server stops accepting."""
DEFAULT_DEADLINE_S = 10.0
"""Deadline applied to a unary call whose caller sent none (and to background calls)."""
DEFAULT_DEADLINE_MARGIN_S = 0.05
"""Kept back from the caller's remaining time so we can still answer before it expires."""
DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024
"""Largest message (or REST body) a process sends or accepts; the gateway's upstream
channels use the same limit."""
DEFAULT_STREAM_HEARTBEAT_S = 60.0
"""A long-lived server stream that has nothing to say sends a message at least this often
(a health Watch re-sends its status, WatchOrders a heartbeat): proxies cut streams that
carry no messages for their idle timeout (300 s, docs/AWS.md), and HTTP/2 PINGs do not
count as stream activity."""
DEFAULT_REST_POOL_SIZE = 256
"""Keep-alive connections a REST client may hold per dependency: enough that a per-item
fan-out at the load test's concurrency never queues for a connection."""

MIN_STREAM_HEARTBEAT_S = 0.01

TRANSPORTS = ("grpc", "rest")
"""What a service process serves: gRPC (HTTP/2) or the REST/JSON baseline (HTTP/1.1)."""


@dataclass(frozen=True)
class RestClientConfig:
    """How the REST baseline calls its dependencies (aiohttp)."""

    pool_size: int = DEFAULT_REST_POOL_SIZE
    new_connection_per_request: bool = False
    """Open (and close) a TCP connection for every request instead of keeping a pool:
    the cost of handshakes, measured rather than argued."""


@dataclass(frozen=True)
class RuntimeConfig:
    """Everything the shared runtime needs to serve one service."""

    service_name: str
    host: str = "0.0.0.0"  # noqa: S104 - containers must listen on their ENI
    grpc_port: int = 0
    health_port: int = 0
    transport: str = "grpc"
    """"grpc", or "rest" for the REST baseline: then only ``rest_port`` is served (its
    /healthz and /metrics included) and dependencies are called over REST."""
    rest_port: int = 0
    rest_client: RestClientConfig = field(default_factory=RestClientConfig)
    drain_delay_s: float = DEFAULT_DRAIN_DELAY_S
    grace_s: float = DEFAULT_GRACE_S
    default_deadline_s: float = DEFAULT_DEADLINE_S
    deadline_margin_s: float = DEFAULT_DEADLINE_MARGIN_S
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    stream_heartbeat_s: float = DEFAULT_STREAM_HEARTBEAT_S
    access_log: bool = True
    log_level: str = "INFO"
    dependencies: Mapping[str, str] = field(default_factory=dict)
    """Dependency name → target ("pricing:50052" on AWS, "127.0.0.1:50052" locally)."""
    tracing: TracingConfig = field(default_factory=TracingConfig)


def stream_heartbeat_from_env(env: Mapping[str, str]) -> float:
    """SHOPMESH_STREAM_HEARTBEAT_S: the heartbeat of quiet server streams (read here for
    the runtime's health Watch and by services with long-lived streams of their own)."""
    return EnvReader(env).number(
        "STREAM_HEARTBEAT_S", DEFAULT_STREAM_HEARTBEAT_S, minimum=MIN_STREAM_HEARTBEAT_S
    )


def runtime_config_from_env(manifest: Manifest, name: str, env: Mapping[str, str]) -> RuntimeConfig:
    """Builds the runtime config of service ``name`` from environment-style variables.

    Ports default to the manifest's; dependency addresses default to the Service Connect
    alias form ``<name>:<port>``, which resolves inside an ECS Service Connect namespace.
    """
    spec = manifest.service(name)
    read = EnvReader(env)
    transport = read.choice("TRANSPORT", "grpc", TRANSPORTS)
    if transport == "rest" and not spec.rest_port and read.raw("REST_PORT") is None:
        raise ConfigError(f"{name} has no rest_port in the manifest: it has no REST baseline")
    dependencies = {}
    for dep in spec.depends_on:
        target = manifest.service(dep)
        port = target.rest_port if transport == "rest" else target.grpc_port
        dependencies[dep] = env.get(dependency_env_name(dep), f"{dep}:{port}")
    return RuntimeConfig(
        service_name=spec.name,
        host=read.text("HOST", "0.0.0.0"),  # noqa: S104 - see RuntimeConfig.host
        grpc_port=read.port("GRPC_PORT", spec.grpc_port),
        health_port=read.port("HEALTH_PORT", spec.health_port),
        transport=transport,
        rest_port=read.port("REST_PORT", spec.rest_port),
        rest_client=RestClientConfig(
            pool_size=read.integer("REST_POOL_SIZE", DEFAULT_REST_POOL_SIZE, minimum=1),
            new_connection_per_request=read.flag("REST_NEW_CONNECTION", False),
        ),
        drain_delay_s=read.number("DRAIN_DELAY_S", DEFAULT_DRAIN_DELAY_S),
        grace_s=read.number("GRACE_S", DEFAULT_GRACE_S),
        default_deadline_s=read.number("DEFAULT_DEADLINE_S", DEFAULT_DEADLINE_S, minimum=0.001),
        deadline_margin_s=read.number("DEADLINE_MARGIN_S", DEFAULT_DEADLINE_MARGIN_S),
        max_message_bytes=read.integer(
            "MAX_MESSAGE_BYTES", DEFAULT_MAX_MESSAGE_BYTES, minimum=1024
        ),
        stream_heartbeat_s=stream_heartbeat_from_env(env),
        access_log=read.flag("ACCESS_LOG", True),
        log_level=read.text("LOG_LEVEL", "INFO").upper(),
        dependencies=dependencies,
        tracing=tracing_from_env(env, spec.name),
    )
