"""Checks made before anything starts: every port free, every module runnable."""

from __future__ import annotations

import importlib.util
import socket
from collections.abc import Iterable
from dataclasses import dataclass

from meshkit.manifest import GatewaySpec, ServiceSpec
from runner.plan import GRPC, REST


@dataclass(frozen=True)
class TakenPort:
    """A manifest port that something else already listens on."""

    port: int
    service: str
    kind: str  # "gRPC", "health", "REST" or (the gateway's) "HTTP"


class PreflightError(RuntimeError):
    """The mesh cannot start; the message is one line meant for a person."""


class PortsInUse(PreflightError):
    """One or more of the mesh's ports are taken."""

    def __init__(self, host: str, taken: tuple[TakenPort, ...], transport: str = GRPC) -> None:
        first = taken[0]
        more = f" (and {len(taken) - 1} more of its ports)" if len(taken) > 1 else ""
        flag = " --transport rest" if transport == REST else ""
        super().__init__(
            f"port {first.port} ({first.service} {first.kind}) on {host} is already in use"
            f"{more}: another mesh may already be running"
            f" (check with `python -m runner status{flag}`)"
        )
        self.host = host
        self.taken = taken


def port_is_free(host: str, port: int) -> bool:
    """True when a listener could bind ``host:port`` right now.

    SO_REUSEADDR mirrors what grpc and asyncio set on their listeners, so connections
    of a previous run lingering in TIME_WAIT do not count as "taken".
    """
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise PreflightError(f"cannot use host {host!r}: {exc.strerror}") from None
    family, kind, proto, _, address = found[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError:
            return False
    return True


def check_ports(
    specs: Iterable[ServiceSpec],
    host: str,
    gateway: GatewaySpec | None = None,
    *,
    transport: str = GRPC,
) -> None:
    """Raises PortsInUse naming every taken port of ``specs`` and the ``gateway``: the
    gRPC and health ports, or over REST the REST port alone (all a REST service opens)."""
    ports = [
        TakenPort(port, spec.name, kind)
        for spec in specs
        for port, kind in _service_ports(spec, transport)
    ]
    if gateway is not None:
        ports.append(TakenPort(gateway.http_port, gateway.name, "HTTP"))
    taken = tuple(port for port in ports if not port_is_free(host, port.port))
    if taken:
        raise PortsInUse(host, taken, transport)


def _service_ports(spec: ServiceSpec, transport: str) -> tuple[tuple[int, str], ...]:
    if transport == REST:
        return ((spec.rest_port, "REST"),)
    return ((spec.grpc_port, "gRPC"), (spec.health_port, "health"))


def check_modules(specs: Iterable[ServiceSpec], gateway: GatewaySpec | None = None) -> None:
    """Raises PreflightError when a service or the gateway cannot be started with
    ``python -m``; the message says how to leave it out."""
    processes = [(spec.name, spec.module, "--only") for spec in specs]
    if gateway is not None:
        processes.append((gateway.name, gateway.module, "--no-gateway"))
    for name, module, leave_out in processes:
        if not module:
            raise PreflightError(
                f"{name} has no Python module to run locally; leave it out with {leave_out}"
            )
        if not _runnable(module):
            raise PreflightError(
                f"{name}: `python -m {module}` cannot run (no such module"
                f" or no __main__); leave it out with {leave_out}"
            )


def _runnable(module: str) -> bool:
    try:
        found = importlib.util.find_spec(module)
        if found is None:
            return False
        if found.submodule_search_locations is None:  # a plain module runs as itself
            return True
        return importlib.util.find_spec(f"{module}.__main__") is not None
    except (ImportError, ValueError):  # a parent is not a package, or a bad name
        return False
