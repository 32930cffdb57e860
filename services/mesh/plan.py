"""What a local mesh will run: the selected services, their addresses and environments.

Pure functions only, so the supervisor, ``status`` and the tests agree on every address
and variable without starting anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from services.manifest import Manifest, ServiceSpec
from services.runtime.config import ENV_PREFIX, dependency_env_name

_WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})  # noqa: S104 - names, not a bind


class SelectionError(ValueError):
    """``--only`` named a service the manifest does not have."""


def select_services(manifest: Manifest, only: Iterable[str] = ()) -> tuple[ServiceSpec, ...]:
    """The services to run, dependencies first.

    With ``only`` empty that is every service; otherwise the named ones plus everything
    they depend on, transitively, since a service cannot become SERVING without them.
    """
    wanted = set(only)
    known = {spec.name for spec in manifest.services}
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


def connect_host(host: str) -> str:
    """The address clients dial for a server bound to ``host`` (wildcards → loopback)."""
    return "127.0.0.1" if host in _WILDCARD_HOSTS else host


def grpc_address(spec: ServiceSpec, host: str) -> str:
    """``host:port`` of the service's gRPC listener, as a client should dial it."""
    dial = connect_host(host)
    return f"[{dial}]:{spec.grpc_port}" if ":" in dial else f"{dial}:{spec.grpc_port}"


def healthz_url(spec: ServiceSpec, host: str) -> str:
    """The service's plain-HTTP health URL."""
    dial = connect_host(host)
    netloc = f"[{dial}]" if ":" in dial else dial
    return f"http://{netloc}:{spec.health_port}/healthz"


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
    env = dict(base_env)
    env.update(
        {
            f"{ENV_PREFIX}HOST": host,
            f"{ENV_PREFIX}GRPC_PORT": str(spec.grpc_port),
            f"{ENV_PREFIX}HEALTH_PORT": str(spec.health_port),
            f"{ENV_PREFIX}DATA_DIR": str(data_dir / spec.name),
            f"{ENV_PREFIX}DRAIN_DELAY_S": str(drain_delay_s),
            f"{ENV_PREFIX}GRACE_S": str(grace_s),
            # Log lines must reach the runner as they happen, not when a buffer fills.
            "PYTHONUNBUFFERED": "1",
        }
    )
    for dep in spec.depends_on:
        env[dependency_env_name(dep)] = grpc_address(manifest.service(dep), host)
    return env
