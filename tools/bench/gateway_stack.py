"""The gateway benchmark's servers: the catalog service, our gateway in front of it and,
when built, grpc-gateway beside it (``build/go/bin/grpcgateway``, ``make grpcgateway``).

Ours run exactly as deployed, ``python -m services.catalog`` and ``python -m gateway``,
configured by environment alone, each under ``runner.guard`` so that it stops even if
the benchmark is killed; grpc-gateway runs with ``-guard-stdin``, its own equivalent.
The environment is built from scratch for the ``SHOPMESH_*``, ``GATEWAY_*`` and
``OTEL_*`` names, so settings in the caller's shell cannot change what is measured.
Each process's stderr (the catalog's access log included) goes to its own file,
line-buffered as it would be in a container.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from meshkit.env import dependency_env_name
from tools.bench.procs import REPO_ROOT

HOST = "127.0.0.1"
CATALOG = "catalog"
GATEWAY = "gateway"
GRPC_GATEWAY = "grpc-gateway"
GRPC_GATEWAY_BINARY = REPO_ROOT / "build" / "go" / "bin" / "grpcgateway"
GRPC_GATEWAY_MODULE = "github.com/grpc-ecosystem/grpc-gateway/v2"
GUARD_MODULE = "runner.guard"
MODULES = {CATALOG: "services.catalog", GATEWAY: "gateway"}
UNUSED_UPSTREAM = f"{HOST}:1"
"""For the gateway's other upstreams: their channels connect lazily and nothing here
calls them, so they only need a syntactically valid address."""
GATEWAY_MAX_CONCURRENCY = 1024
"""Raised from 512 so no benchmark concurrency comes near it; the limiter still runs."""
OWNED_PREFIXES = ("SHOPMESH_", "GATEWAY_", "OTEL_")
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
READY_POLL_S = 0.05
READY_REQUEST_TIMEOUT_S = 1.0
LOG_TAIL_CHARS = 4000


@dataclass(frozen=True)
class Stack:
    """The running catalog and gateway."""

    pids: Mapping[str, int]
    """Process id by name (``catalog``, ``gateway``, ``grpc-gateway``), for CPU readings."""
    logs: Mapping[str, Path]
    grpc_target: str
    """The catalog's gRPC address, for the direct path."""
    gateway_url: str
    """``http://host:port`` of our gateway, for the REST path."""
    grpc_gateway_url: str | None = None
    """``http://host:port`` of grpc-gateway, when it runs."""

    def edge_url(self, name: str) -> str:
        """The base URL of the edge ``name`` (``gateway`` or ``grpc-gateway``)."""
        url = self.grpc_gateway_url if name == GRPC_GATEWAY else self.gateway_url
        if url is None:
            raise ValueError(f"{name} is not running")
        return url


def grpc_gateway_version() -> str:
    """The grpc-gateway module the built binary links (``go version -m``), or "unknown"."""
    go = shutil.which("go")
    if go is None or grpc_gateway_problem():
        return "unknown"
    done = subprocess.run(  # noqa: S603 - our own argv
        [go, "version", "-m", str(GRPC_GATEWAY_BINARY)],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    for line in done.stdout.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[:2] == ["dep", GRPC_GATEWAY_MODULE]:
            return f"{GRPC_GATEWAY_MODULE} {fields[2]}"
    return "unknown"


def grpc_gateway_problem() -> str | None:
    """Why grpc-gateway cannot run here, or None."""
    if GRPC_GATEWAY_BINARY.is_file() and os.access(GRPC_GATEWAY_BINARY, os.X_OK):
        return None
    relative = GRPC_GATEWAY_BINARY.relative_to(REPO_ROOT)
    return f"{relative} is not built (make grpcgateway; needs Go)"


def base_env(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` without any variable that configures the mesh, the gateway or tracing."""
    return {k: v for k, v in env.items() if not k.startswith(OWNED_PREFIXES)}


def catalog_env(env: Mapping[str, str], *, grpc_port: int, health_port: int) -> dict[str, str]:
    """The catalog as in production (access log on, tracing off), on loopback ports,
    with no drain delay since nothing routes to it by health."""
    return base_env(env) | {
        "SHOPMESH_HOST": HOST,
        "SHOPMESH_GRPC_PORT": str(grpc_port),
        "SHOPMESH_HEALTH_PORT": str(health_port),
        "SHOPMESH_ACCESS_LOG": "1",
        "SHOPMESH_DRAIN_DELAY_S": "0",
        "SHOPMESH_GRACE_S": "1",
    }


def gateway_env(
    env: Mapping[str, str], *, port: int, catalog_target: str, services: Iterable[str]
) -> dict[str, str]:
    """The gateway with default settings except: rate limiting off (one client would
    otherwise get 429 after 50 requests/s), a concurrency cap no run reaches, and no
    drain grace at shutdown. The response cache stays off (its default), so every
    request reaches the catalog; tracing stays off."""
    upstreams = {dependency_env_name(name): UNUSED_UPSTREAM for name in services}
    upstreams[dependency_env_name(CATALOG)] = catalog_target
    return (
        base_env(env)
        | upstreams
        | {
            "GATEWAY_HOST": HOST,
            "GATEWAY_PORT": str(port),
            "GATEWAY_RATE_LIMIT_PER_S": "0",
            "GATEWAY_MAX_CONCURRENCY": str(GATEWAY_MAX_CONCURRENCY),
            "GATEWAY_DRAIN_GRACE_S": "0",
            "GATEWAY_SHUTDOWN_GRACE_S": "1",
        }
    )


def free_ports(count: int) -> list[int]:
    """``count`` distinct loopback ports that were free a moment ago."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((HOST, 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _tail(path: Path) -> str:
    return path.read_text(errors="replace")[-LOG_TAIL_CHARS:] if path.exists() else ""


def _wait_ready(proc: subprocess.Popen[bytes], url: str, name: str, log: Path) -> None:
    """Polls ``url`` until it answers 200; fails with the log's tail if the process
    exits or the start-up timeout passes."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=READY_REQUEST_TIMEOUT_S) as answer:  # noqa: S310 - our own loopback URL
                if answer.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass  # not listening yet, or not SERVING yet
        time.sleep(READY_POLL_S)
    raise RuntimeError(f"{name} not ready at {url} within {START_TIMEOUT_S:.0f} s:\n{_tail(log)}")


def _python(name: str) -> list[str]:
    return [sys.executable, "-m", GUARD_MODULE, MODULES[name]]


@contextmanager
def _child(argv: list[str], env: Mapping[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Starts ``argv`` (guarded by its stdin); SIGTERM (then SIGKILL) on exit."""
    with log.open("wb") as sink:
        proc = subprocess.Popen(  # noqa: S603 - our own programs, fixed arguments
            argv,
            stdin=subprocess.PIPE,  # held open: the guard stops the child when it closes
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=dict(env),
            cwd=REPO_ROOT,
        )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdin is not None:
            proc.stdin.close()


def grpc_gateway_argv(port: int, catalog_target: str) -> list[str]:
    """grpc-gateway on ``port``, routing the catalog only, stopped when stdin closes."""
    return [
        str(GRPC_GATEWAY_BINARY),
        f"-listen={HOST}:{port}",
        f"-upstream=catalog={catalog_target}",
        "-guard-stdin",
    ]


@contextmanager
def running_stack(
    workdir: Path,
    tag: str,
    env: Mapping[str, str],
    services: Iterable[str],
    *,
    with_grpc_gateway: bool = False,
) -> Iterator[Stack]:
    """Starts the catalog, waits until it is SERVING, then our gateway (and grpc-gateway),
    and stops them (edges first) on every way out of the block. Logs go to
    ``workdir/<tag>-<name>.log``."""
    grpc_port, health_port, gateway_port, reference_port = free_ports(4)
    names = (CATALOG, GATEWAY, GRPC_GATEWAY) if with_grpc_gateway else (CATALOG, GATEWAY)
    logs = {name: workdir / f"{tag}-{name}.log" for name in names}
    grpc_target = f"{HOST}:{grpc_port}"
    with ExitStack() as stack:
        catalog = stack.enter_context(
            _child(
                _python(CATALOG),
                catalog_env(env, grpc_port=grpc_port, health_port=health_port),
                logs[CATALOG],
            )
        )
        _wait_ready(catalog, f"http://{HOST}:{health_port}/healthz", CATALOG, logs[CATALOG])
        gateway = stack.enter_context(
            _child(
                _python(GATEWAY),
                gateway_env(env, port=gateway_port, catalog_target=grpc_target, services=services),
                logs[GATEWAY],
            )
        )
        url = f"http://{HOST}:{gateway_port}"
        _wait_ready(gateway, f"{url}/healthz", GATEWAY, logs[GATEWAY])
        pids = {GATEWAY: gateway.pid, CATALOG: catalog.pid}
        reference_url = None
        if with_grpc_gateway:
            reference = stack.enter_context(
                _child(
                    grpc_gateway_argv(reference_port, grpc_target),
                    base_env(env),
                    logs[GRPC_GATEWAY],
                )
            )
            reference_url = f"http://{HOST}:{reference_port}"
            _wait_ready(reference, f"{reference_url}/healthz", GRPC_GATEWAY, logs[GRPC_GATEWAY])
            pids[GRPC_GATEWAY] = reference.pid
        yield Stack(
            pids=pids,
            logs=logs,
            grpc_target=grpc_target,
            gateway_url=url,
            grpc_gateway_url=reference_url,
        )
