"""What a local mesh will run: the selected services and gateway, their addresses and
environments, over gRPC or as the REST/JSON baseline.

Pure functions only, so the supervisor, ``status`` and the tests agree on every address
and variable without starting anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from meshkit.env import ENV_PREFIX, GATEWAY_ENV_PREFIX, dependency_env_name
from meshkit.manifest import GatewaySpec, Manifest, ServiceSpec
from meshkit.probes import LIVENESS_PATH, READINESS_PATH
from meshkit.runtime.config import TRANSPORTS

_WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})  # noqa: S104 - names, not a bind


GRPC, REST = "grpc", "rest"
"""What a mesh's services serve: two of the words meshkit/runtime/config.py TRANSPORTS
accepts in SHOPMESH_TRANSPORT."""
REST_SUFFIX = "-rest"


class SelectionError(ValueError):
    """``--only`` named a service the manifest does not have."""


class TransportError(SelectionError):
    """A selected service cannot serve the transport asked for."""


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


def check_transport(services: Iterable[ServiceSpec], transport: str) -> None:
    """Raises TransportError unless every service can serve ``transport``: over REST each
    needs a ``rest_port``."""
    if transport not in TRANSPORTS:
        raise TransportError(f"transport must be one of {', '.join(TRANSPORTS)}: {transport!r}")
    if transport == REST:
        missing = [spec.name for spec in services if not spec.rest_port]
        if missing:
            raise TransportError(
                f"cannot run over REST: no rest_port in the manifest for {', '.join(missing)}"
                " (add one, or leave it out with --only)"
            )


def process_name(name: str, transport: str) -> str:
    """What the runner calls a service's process (logs, events, pids): its name over gRPC,
    ``<name>-rest`` over REST, so two meshes side by side never share a label."""
    return f"{name}{REST_SUFFIX}" if transport == REST else name


def service_port(spec: ServiceSpec, transport: str) -> int:
    """The port clients call the service on: gRPC, or its REST port."""
    return spec.rest_port if transport == REST else spec.grpc_port


def data_dir_of(spec: ServiceSpec, data_dir: Path, transport: str) -> Path:
    """Where the service keeps its data: DATA_DIR/<service> over gRPC and
    DATA_DIR/rest/<service> over REST, so the two meshes never share SQLite files."""
    return data_dir / REST / spec.name if transport == REST else data_dir / spec.name


def connect_host(host: str) -> str:
    """The address clients dial for a server bound to ``host`` (wildcards → loopback)."""
    return "127.0.0.1" if host in _WILDCARD_HOSTS else host


def _netloc(host: str, port: int) -> str:
    dial = connect_host(host)
    return f"[{dial}]:{port}" if ":" in dial else f"{dial}:{port}"


def grpc_address(spec: ServiceSpec, host: str) -> str:
    """``host:port`` of the service's gRPC listener, as a client should dial it."""
    return _netloc(host, spec.grpc_port)


def rest_url(spec: ServiceSpec, host: str) -> str:
    """The base URL (no trailing slash) of the service's REST/JSON baseline."""
    return f"http://{_netloc(host, spec.rest_port)}"


def address(spec: ServiceSpec, host: str, transport: str) -> str:
    """What a client of ``transport`` dials: the gRPC ``host:port`` or the REST base URL."""
    return rest_url(spec, host) if transport == REST else grpc_address(spec, host)


def healthz_url(spec: ServiceSpec, host: str, transport: str = GRPC) -> str:
    """The service's plain-HTTP liveness URL: on its health port, or its REST port."""
    if transport == REST:
        return rest_url(spec, host) + LIVENESS_PATH
    return f"http://{_netloc(host, spec.health_port)}{LIVENESS_PATH}"


def readyz_url(spec: ServiceSpec, host: str, transport: str = GRPC) -> str:
    """The service's readiness URL (200 only while it serves): what gates its start."""
    return healthz_url(spec, host, transport).removesuffix(LIVENESS_PATH) + READINESS_PATH


def gateway_url(gateway: GatewaySpec, host: str) -> str:
    """The gateway's base URL (no trailing slash), as a client should use it."""
    return f"http://{_netloc(host, gateway.http_port)}"


def gateway_healthz_url(gateway: GatewaySpec, host: str) -> str:
    """The gateway's health URL, on its API port."""
    return gateway_url(gateway, host) + LIVENESS_PATH


def child_env(
    spec: ServiceSpec,
    manifest: Manifest,
    *,
    host: str,
    data_dir: Path,
    drain_delay_s: float,
    grace_s: float,
    base_env: Mapping[str, str],
    transport: str = GRPC,
) -> dict[str, str]:
    """The complete environment of one service process.

    ``base_env`` passes through (PATH, OTEL_*, SHOPMESH_LOG_LEVEL, ...), then the
    manifest's ``env`` of the service; the variables that place the service in this mesh
    always win over both, the transport included. Over REST the service gets its REST
    port only (it serves no gRPC or health port) and its dependencies' REST ``host:port``.
    """
    if transport == REST:
        ports = {f"{ENV_PREFIX}REST_PORT": str(spec.rest_port)}
    else:
        ports = {
            f"{ENV_PREFIX}GRPC_PORT": str(spec.grpc_port),
            f"{ENV_PREFIX}HEALTH_PORT": str(spec.health_port),
        }
    placement = {
        **spec.env,
        f"{ENV_PREFIX}HOST": host,
        f"{ENV_PREFIX}TRANSPORT": transport,
        **ports,
        f"{ENV_PREFIX}DATA_DIR": str(data_dir_of(spec, data_dir, transport)),
        f"{ENV_PREFIX}DRAIN_DELAY_S": str(drain_delay_s),
        f"{ENV_PREFIX}GRACE_S": str(grace_s),
    }
    return _environment(base_env, placement, spec.depends_on, manifest, host, transport)


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
    transport: str = GRPC,
) -> dict[str, str]:
    """``base_env``, overridden by ``placement`` and the ``host:port`` of the services it
    calls over ``transport``."""
    env = dict(base_env)
    env.update(placement)
    # Log lines must reach the runner as they happen, not when a buffer fills.
    env["PYTHONUNBUFFERED"] = "1"
    for name in calls:
        port = service_port(manifest.service(name), transport)
        env[dependency_env_name(name)] = _netloc(host, port)
    return env
