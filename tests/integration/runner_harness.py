"""``python -m runner`` as a real child process, for the runner's integration tests."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from meshkit.manifest import load_manifest

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 40.0
EXIT_TIMEOUT_S = 20.0
"""A few processes, each drain (0.1 s) + grace (2 s) + margin, with room to spare."""
FAST_STOP = ("--drain-delay-s", "0.1", "--grace-s", "2")
STARTED = re.compile(r"started ([\w-]+) \(pid (\d+)\)")
TRANSPORT_ENV = "MESH_TRANSPORT"
"""Left out of the runner's inherited environment: a developer's own choice must not
change what a test runs (tests that mean to set it pass it in ``env``)."""


def _environment(extra: dict[str, str] | None) -> dict[str, str]:
    inherited = {key: value for key, value in os.environ.items() if key != TRANSPORT_ENV}
    return {**inherited, **(extra or {})}


def free_ports(count: int) -> list[int]:
    """Distinct ports nothing listens on now (all held open together while picked)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for probe_socket in sockets:
            probe_socket.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for probe_socket in sockets:
            probe_socket.close()


def alive(pid: int) -> bool:
    """True while ``pid`` runs; a zombie nobody reaps (PID 1 here may not) counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    if not stat.parent.parent.is_dir():  # no /proc (macOS): os.kill is all there is
        return True
    try:
        # The state letter follows the parenthesised command name.
        state = stat.read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def wait_until_gone(pids: dict[str, int], timeout_s: float) -> dict[str, int]:
    """The pids still alive after up to ``timeout_s`` of polling."""
    deadline = time.monotonic() + timeout_s
    while (left := {n: p for n, p in pids.items() if alive(p)}) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


class Runner:
    """``python -m runner ...`` with its combined output collected line by line."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "runner", *args],
            cwd=ROOT,
            env=_environment(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._eof = False
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._eof = True
            self._changed.notify_all()

    @property
    def output(self) -> str:
        with self._changed:
            return "\n".join(self.lines)

    def wait_for(self, pattern: str, timeout_s: float = READY_TIMEOUT_S) -> re.Match[str]:
        """The first output line matching ``pattern``, waiting up to ``timeout_s``."""
        regex = re.compile(pattern)

        def found() -> re.Match[str] | None:
            return next(filter(None, map(regex.search, self.lines)), None)

        with self._changed:
            self._changed.wait_for(lambda: found() is not None or self._eof, timeout_s)
            match = found()
        assert match is not None, f"no line matching {pattern!r} in:\n{self.output}"
        return match

    def finish(self, timeout_s: float = EXIT_TIMEOUT_S) -> int:
        """Waits for exit and for the last output line; returns the exit status."""
        returncode = self.process.wait(timeout=timeout_s)
        with self._changed:
            self._changed.wait_for(lambda: self._eof, timeout_s)
        return returncode

    def close(self) -> None:
        """Kills the runner if a test left it running (its guard stops the children)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=EXIT_TIMEOUT_S)
        if self.process.stdout is not None:
            self.process.stdout.close()

    def child_pids(self) -> dict[str, int]:
        return {m[1]: int(m[2]) for m in map(STARTED.search, self.lines) if m is not None}


def run_mesh(
    manifest: Path, data_dir: Path, *extra: str, env: dict[str, str] | None = None
) -> Runner:
    """``python -m runner run`` of ``manifest`` with its data in ``data_dir``."""
    return Runner("run", "--manifest", str(manifest), "--data-dir", str(data_dir), *extra, env=env)


def run_once(*args: str, timeout_s: float = EXIT_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    """One ``python -m runner`` command to completion, output captured."""
    return subprocess.run(
        [sys.executable, "-m", "runner", *args],
        cwd=ROOT,
        env=_environment(None),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


def closing_runners() -> Iterator[list[Runner]]:
    """The body of a ``start_runner`` fixture: a list a test appends the runners it starts
    to; any still running at the end are killed."""
    runners: list[Runner] = []
    yield runners
    for runner in runners:
        runner.close()


@pytest.fixture
def start_runner() -> Iterator[list[Runner]]:
    """Runners a test starts; any still running at the end are killed."""
    yield from closing_runners()


def write_manifest(directory: Path, *, gateway: bool, rest: bool = True) -> Path:
    """A two-service manifest on free ports: catalog, then pricing depending on it (so
    start and stop order are observable), each with a REST port unless not ``rest``, and
    with ``gateway`` a gateway in front."""
    ports = free_ports(7)
    catalog_grpc, catalog_health, catalog_rest, pricing_grpc, pricing_health, pricing_rest = ports[
        :6
    ]
    text = f"""
[mesh]
name = "runner-test"

[services.catalog]
module = "services.catalog"
grpc_port = {catalog_grpc}
health_port = {catalog_health}
rest_port = {catalog_rest}
proto_services = ["shopmesh.catalog.v1.CatalogService"]

[services.pricing]
module = "services.pricing"
grpc_port = {pricing_grpc}
health_port = {pricing_health}
rest_port = {pricing_rest}
proto_services = ["shopmesh.pricing.v1.PricingService"]
depends_on = ["catalog"]
"""
    if not rest:
        text = re.sub(r"^rest_port = \d+\n", "", text, flags=re.MULTILINE)
    if gateway:
        text += f"""
[gateway]
module = "gateway"
http_port = {ports[6]}
upstreams = ["catalog", "pricing"]
"""
    path = directory / "mesh.toml"
    path.write_text(text, encoding="utf-8")
    return path


def write_shop_manifest(directory: Path) -> Path:
    """services/mesh.toml with every port moved to a free one: the whole shop, as the
    runner starts it by default, without meeting a developer's own mesh."""
    services = load_manifest().services
    ports = iter(free_ports(3 * len(services)))
    tables = [
        f"""
[services.{spec.name}]
module = "{spec.module}"
grpc_port = {next(ports)}
health_port = {next(ports)}
rest_port = {next(ports)}
proto_services = {json.dumps(list(spec.proto_services))}
depends_on = {json.dumps(list(spec.depends_on))}
stateful = {json.dumps(spec.stateful)}
"""
        for spec in services
    ]
    path = directory / "mesh.toml"
    path.write_text('[mesh]\nname = "runner-shop"\n' + "".join(tables), encoding="utf-8")
    return path


@contextmanager
def serving_runner(
    directory: Path,
    *,
    gateway: bool = False,
    transport: str = "grpc",
    manifest: Path | None = None,
    extra: tuple[str, ...] = (),
) -> Iterator[tuple[Path, Runner]]:
    """A runner over ``transport`` on ``manifest`` (default: a fresh two-service one) with
    data in ``directory``, ready; SIGINT at the end."""
    manifest = manifest or write_manifest(directory, gateway=gateway)
    runner = Runner(
        "run",
        "--manifest",
        str(manifest),
        "--data-dir",
        str(directory),
        "--transport",
        transport,
        *FAST_STOP,
        *extra,
    )
    try:
        runner.wait_for(r"\bready\b")
        yield manifest, runner
        runner.process.send_signal(signal.SIGINT)
        runner.finish()
    finally:
        runner.close()
