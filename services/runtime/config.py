"""Typed runtime configuration, one frozen object per process.

``runtime_config_from_env`` is called from a service's ``__main__`` with ``os.environ``;
nothing deeper reads the environment. Missing or malformed values fail by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from services.manifest import Manifest

ENV_PREFIX = "SHOPMESH_"

DEFAULT_DRAIN_DELAY_S = 5.0
"""Time between health turning NOT_SERVING and the listener closing: long enough for
Service Connect/Lattice to stop routing new requests here."""
DEFAULT_GRACE_S = 10.0
"""How long in-flight RPCs get to finish once the server stops accepting."""
DEFAULT_DEADLINE_S = 10.0
"""Deadline applied to a unary call whose caller sent none (and to background calls)."""
DEFAULT_DEADLINE_MARGIN_S = 0.05
"""Kept back from the caller's remaining time so we can still answer before it expires."""
DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024
DEFAULT_REST_POOL_SIZE = 256
"""Keep-alive connections a REST client may hold per dependency: enough that a per-item
fan-out at the load test's concurrency never queues for a connection."""

STORAGES = ("sqlite", "dynamodb")
"""Where stateful services keep data: a SQLite file (local default) or a DynamoDB table."""

TRANSPORTS = ("grpc", "rest")
"""What a service process serves: gRPC (HTTP/2) or the REST/JSON baseline (HTTP/1.1)."""


class ConfigError(ValueError):
    """A configuration value is missing or malformed; the message names it."""


@dataclass(frozen=True)
class TracingConfig:
    """OpenTelemetry export, from the standard OTEL_* variables."""

    exporter: str = "none"  # "none" | "console" | "otlp"
    service_name: str = ""
    otlp_endpoint: str = ""
    sample_ratio: float = 1.0
    """Fraction of new traces sampled (parent-based: a sampled caller is always followed);
    OTEL_TRACES_SAMPLER=parentbased_traceidratio with OTEL_TRACES_SAMPLER_ARG."""


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
    rest_client: RestClientConfig = RestClientConfig()
    drain_delay_s: float = DEFAULT_DRAIN_DELAY_S
    grace_s: float = DEFAULT_GRACE_S
    default_deadline_s: float = DEFAULT_DEADLINE_S
    deadline_margin_s: float = DEFAULT_DEADLINE_MARGIN_S
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    access_log: bool = True
    log_level: str = "INFO"
    dependencies: Mapping[str, str] = field(default_factory=dict)
    """Dependency name → target ("pricing:50052" on AWS, "127.0.0.1:50052" locally)."""
    tracing: TracingConfig = TracingConfig()


def _get(env: Mapping[str, str], name: str, default: str) -> str:
    return env.get(ENV_PREFIX + name, default)


def number_from_env(
    env: Mapping[str, str], variable: str, default: float, *, minimum: float = 0.0
) -> float:
    """The number in ``variable`` (its full name), at least ``minimum``; fails by name."""
    raw = env.get(variable, str(default))
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{variable} must be a number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{variable} must be >= {minimum}, got {value}")
    return value


def _number(env: Mapping[str, str], name: str, default: float, *, minimum: float = 0.0) -> float:
    return number_from_env(env, ENV_PREFIX + name, default, minimum=minimum)


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = _get(env, name, str(default))
    if not raw.isdigit() or int(raw) > 65535:
        raise ConfigError(f"{ENV_PREFIX}{name} must be a TCP port (0-65535), got {raw!r}")
    return int(raw)


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = _get(env, name, "1" if default else "0").strip().lower()
    if raw not in {"1", "0", "true", "false", "yes", "no"}:
        raise ConfigError(f"{ENV_PREFIX}{name} must be a boolean, got {raw!r}")
    return raw in {"1", "true", "yes"}


def product_count_from_env(env: Mapping[str, str]) -> int:
    """SHOPMESH_PRODUCT_COUNT: how many seeded products the shop sells (catalog, pricing
    and inventory must agree, so it is one shared setting)."""
    from services.common.seed import DEFAULT_PRODUCT_COUNT, MAX_PRODUCT_COUNT

    raw = _get(env, "PRODUCT_COUNT", str(DEFAULT_PRODUCT_COUNT))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PRODUCT_COUNT:
        raise ConfigError(f"{ENV_PREFIX}PRODUCT_COUNT must be 1..{MAX_PRODUCT_COUNT}, got {raw!r}")
    return int(raw)


def data_dir_from_env(env: Mapping[str, str]) -> Path:
    """SHOPMESH_DATA_DIR: where stateful services keep their SQLite files."""
    return Path(_get(env, "DATA_DIR", "data"))


@dataclass(frozen=True)
class StorageConfig:
    """Where a stateful service keeps its data."""

    kind: str = "sqlite"
    data_dir: Path = Path("data")
    """SQLite: the folder of the service's file."""
    table: str = ""
    """DynamoDB: the table (the storage stack's ``<environment>-<service>``)."""
    region: str = ""
    endpoint_url: str = ""
    """DynamoDB: a local endpoint (moto, DynamoDB Local) instead of AWS's."""


def storage_from_env(env: Mapping[str, str]) -> StorageConfig:
    """SHOPMESH_STORAGE (sqlite | dynamodb), SHOPMESH_DATA_DIR for SQLite;
    SHOPMESH_DYNAMODB_TABLE (required), SHOPMESH_DYNAMODB_ENDPOINT and AWS_REGION (or
    AWS_DEFAULT_REGION) for DynamoDB. Credentials come from the usual AWS chain."""
    kind = _get(env, "STORAGE", "sqlite").strip().lower()
    if kind not in STORAGES:
        raise ConfigError(f"{ENV_PREFIX}STORAGE must be sqlite or dynamodb, got {kind!r}")
    table = _get(env, "DYNAMODB_TABLE", "").strip()
    if kind == "dynamodb" and not table:
        raise ConfigError(f"{ENV_PREFIX}STORAGE=dynamodb needs {ENV_PREFIX}DYNAMODB_TABLE")
    return StorageConfig(
        kind=kind,
        data_dir=data_dir_from_env(env),
        table=table,
        region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION", ""),
        endpoint_url=_get(env, "DYNAMODB_ENDPOINT", "").strip(),
    )


def dependency_env_name(dependency: str) -> str:
    """The variable that overrides a dependency's address, e.g. SHOPMESH_PRICING_ADDR."""
    return f"{ENV_PREFIX}{dependency.upper().replace('-', '_')}_ADDR"


def tracing_from_env(env: Mapping[str, str], service_name: str) -> TracingConfig:
    """Reads the standard OpenTelemetry variables (tracing is off unless asked for)."""
    if env.get("OTEL_SDK_DISABLED", "false").lower() == "true":
        return TracingConfig(service_name=service_name)
    exporter = env.get("OTEL_TRACES_EXPORTER", "none").strip().lower()
    if exporter not in {"none", "console", "otlp"}:
        raise ConfigError(f"OTEL_TRACES_EXPORTER must be none, console or otlp, got {exporter!r}")
    sampler = env.get("OTEL_TRACES_SAMPLER", "parentbased_always_on")
    ratios = {"parentbased_always_on": "1", "parentbased_always_off": "0"}
    if sampler not in {*ratios, "parentbased_traceidratio"}:
        raise ConfigError(
            "OTEL_TRACES_SAMPLER must be parentbased_always_on, parentbased_always_off or "
            f"parentbased_traceidratio, got {sampler!r}"
        )
    raw_ratio = ratios.get(sampler) or env.get("OTEL_TRACES_SAMPLER_ARG", "1")
    try:
        ratio = float(raw_ratio)
    except ValueError:
        ratio = -1.0
    if not 0.0 <= ratio <= 1.0:
        raise ConfigError(f"OTEL_TRACES_SAMPLER_ARG must be in 0..1, got {raw_ratio!r}")
    return TracingConfig(
        exporter=exporter,
        service_name=env.get("OTEL_SERVICE_NAME", service_name),
        otlp_endpoint=env.get("OTEL_EXPORTER_OTLP_ENDPOINT", ""),
        sample_ratio=ratio,
    )


def runtime_config_from_env(manifest: Manifest, name: str, env: Mapping[str, str]) -> RuntimeConfig:
    """Builds the runtime config of service ``name`` from environment-style variables.

    Ports default to the manifest's; dependency addresses default to the Service Connect
    alias form ``<name>:<port>``, which resolves inside an ECS Service Connect namespace.
    """
    spec = manifest.service(name)
    transport = _get(env, "TRANSPORT", "grpc").strip().lower()
    if transport not in TRANSPORTS:
        raise ConfigError(f"{ENV_PREFIX}TRANSPORT must be grpc or rest, got {transport!r}")
    if transport == "rest" and not spec.rest_port and f"{ENV_PREFIX}REST_PORT" not in env:
        raise ConfigError(f"{name} has no rest_port in the manifest: it has no REST baseline")
    dependencies = {}
    for dep in spec.depends_on:
        target = manifest.service(dep)
        port = target.rest_port if transport == "rest" else target.grpc_port
        dependencies[dep] = env.get(dependency_env_name(dep), f"{dep}:{port}")
    return RuntimeConfig(
        service_name=spec.name,
        host=_get(env, "HOST", "0.0.0.0"),  # noqa: S104 - see RuntimeConfig.host
        grpc_port=_port(env, "GRPC_PORT", spec.grpc_port),
        health_port=_port(env, "HEALTH_PORT", spec.health_port),
        transport=transport,
        rest_port=_port(env, "REST_PORT", spec.rest_port),
        rest_client=RestClientConfig(
            pool_size=int(_number(env, "REST_POOL_SIZE", DEFAULT_REST_POOL_SIZE, minimum=1)),
            new_connection_per_request=_flag(env, "REST_NEW_CONNECTION", False),
        ),
        drain_delay_s=_number(env, "DRAIN_DELAY_S", DEFAULT_DRAIN_DELAY_S),
        grace_s=_number(env, "GRACE_S", DEFAULT_GRACE_S),
        default_deadline_s=_number(env, "DEFAULT_DEADLINE_S", DEFAULT_DEADLINE_S, minimum=0.001),
        deadline_margin_s=_number(env, "DEADLINE_MARGIN_S", DEFAULT_DEADLINE_MARGIN_S),
        max_message_bytes=int(
            _number(env, "MAX_MESSAGE_BYTES", DEFAULT_MAX_MESSAGE_BYTES, minimum=1024)
        ),
        access_log=_flag(env, "ACCESS_LOG", True),
        log_level=_get(env, "LOG_LEVEL", "INFO").upper(),
        dependencies=dependencies,
        tracing=tracing_from_env(env, spec.name),
    )
