"""What a local mesh will run: the selected services and gateway, their addresses and
environments.

Pure functions only, so the supervisor, ``status`` and the tests agree on every address
and variable without starting anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from services.manifest import GatewaySpec, Manifest, ServiceSpec
from services.runtime.config import ENV_PREFIX, dependency_env_name

_WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})  # noqa: S104 - names, not a bind

GATEWAY_ENV_PREFIX = "GATEWAY_"
"""The gateway's own variables (gateway/config.py, gateway/edge/config.py)."""
GATEWAY_HEALTH_PATH = "/healthz"
"""Served on the gateway's API port: 200 while serving, 503 while draining."""


class SelectionError(ValueError):
    """``--only`` named a service the manifest does not have."""


def select_services(manifest: Manifest, only: Iterable[str] = ()) -> tuple[ServiceSpec, ...]:
    """The services to run, dependencies first.

    With ``only`` empty that is every service; otherwise the named ones plus everything
    they depend on, transitively, since a service cannot become SERVING without them.
    The gateway's name stands for its upstreams (``select_gateway`` then adds it).
    """
    wanted = set(only)
    known = {spec.name for spec in manifest.services}
    if manifest.gateway is not None:
        if manifest.gateway.name in wanted:
            wanted.discard(manifest.gateway.name)
            wanted.update(manifest.gateway.upstreams)
        known.add(manifest.gateway.name)  # for the message below: wanted no longer has it
    unknown = sorted(wanted - known)
    if unknown:
        raise SelectionError(f"unknown service(s) {', '.join(unknown)}; known: {sorted(known)}")
    if not wanted:
        return manifest.services
    # Manifest order is dependencies-first, so walking it backwards sees every dependent
    # before its dependencies and one pass closes the set.
    for spec in reversed(manifest.services):
        if spec.name in wanted:
            wanted.update(spec.depends_on)
    return tuple(spec for spec in manifest.services if spec.name in wanted)


def select_gateway(
    manifest: Manifest, services: Iterable[ServiceSpec], *, enabled: bool = True
) -> GatewaySpec | None:
    """The gateway to run with ``services``: none when the manifest has none, when it is
    switched off, or when one of its upstreams is not among ``services``."""
    gateway = manifest.gateway
    if gateway is None or not enabled:
        return None
    selected = {spec.name for spec in services}
    return gateway if selected.issuperset(gateway.upstreams) else None


def connect_host(host: str) -> str:
    """The address clients dial for a server bound to ``host`` (wildcards → loopback)."""
    return "127.0.0.1" if host in _WILDCARD_HOSTS else host


def _netloc(host: str, port: int) -> str:
    dial = connect_host(host)
    return f"[{dial}]:{port}" if ":" in dial else f"{dial}:{port}"


def grpc_address(spec: ServiceSpec, host: str) -> str:
    """``host:port`` of the service's gRPC listener, as a client should dial it."""
    return _netloc(host, spec.grpc_port)


def healthz_url(spec: ServiceSpec, host: str) -> str:
    """The service's plain-HTTP health URL."""
    return f"http://{_netloc(host, spec.health_port)}/healthz"


def gateway_url(gateway: GatewaySpec, host: str) -> str:
    """The gateway's base URL (no trailing slash), as a client should use it."""
    return f"http://{_netloc(host, gateway.http_port)}"


def gateway_healthz_url(gateway: GatewaySpec, host: str) -> str:
    """The gateway's health URL, on its API port."""
    return gateway_url(gateway, host) + GATEWAY_HEALTH_PATH


def child_env(
    spec: ServiceSpec,
    manifest: Manifest,
    *,
    host: str,
    data_dir: Path,
    drain_delay_s: float,
    grace_s: float,
    base_env: Mapping[str, str],
) -> dict[str, str]:
    """The complete environment of one service process.

    ``base_env`` passes through (PATH, OTEL_*, SHOPMESH_LOG_LEVEL, ...); the variables
    that place the service in this mesh always win over inherited ones.
    """
    placement = {
        f"{ENV_PREFIX}HOST": host,
        f"{ENV_PREFIX}GRPC_PORT": str(spec.grpc_port),
        f"{ENV_PREFIX}HEALTH_PORT": str(spec.health_port),
        f"{ENV_PREFIX}DATA_DIR": str(data_dir / spec.name),
        f"{ENV_PREFIX}DRAIN_DELAY_S": str(drain_delay_s),
        f"{ENV_PREFIX}GRACE_S": str(grace_s),
    }
    return _environment(base_env, placement, spec.depends_on, manifest, host)


def gateway_env(
    gateway: GatewaySpec,
    manifest: Manifest,
    *,
    host: str,
    drain_delay_s: float,
    grace_s: float,
    base_env: Mapping[str, str],
) -> dict[str, str]:
    """The complete environment of the gateway process, as ``child_env`` for a service.

    Its drain grace (``/healthz`` 503, requests still served) is the services' drain
    delay and its shutdown grace their grace, so one ``--drain-delay-s``/``--grace-s``
    bounds every stop.
    """
    placement = {
        f"{GATEWAY_ENV_PREFIX}HOST": host,
        f"{GATEWAY_ENV_PREFIX}PORT": str(gateway.http_port),
        f"{GATEWAY_ENV_PREFIX}DRAIN_GRACE_S": str(drain_delay_s),
        f"{GATEWAY_ENV_PREFIX}SHUTDOWN_GRACE_S": str(grace_s),
    }
    return _environment(base_env, placement, gateway.upstreams, manifest, host)


def _environment(
    base_env: Mapping[str, str],
    placement: Mapping[str, str],
    calls: Iterable[str],
    manifest: Manifest,
    host: str,
) -> dict[str, str]:
    """``base_env``, overridden by ``placement`` and the addresses of the services it calls."""
    env = dict(base_env)
    env.update(placement)
    # Log lines must reach the runner as they happen, not when a buffer fills.
    env["PYTHONUNBUFFERED"] = "1"
    for name in calls:
        env[dependency_env_name(name)] = grpc_address(manifest.service(name), host)
    return env
