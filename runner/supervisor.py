"""``LocalMesh``: the services of a manifest, and its gateway, as child processes of this one.

Start-up checks every port first, starts each service once its dependencies answer
SERVING, and waits until it answers SERVING itself (gRPC health, or ``GET /readyz``
answering 200 for a mesh of REST/JSON baseline services); the gateway starts last, once
every service is SERVING, and is ready when its ``/healthz`` answers 200. Shutdown goes the
other way round: the gateway first, then dependents before what they call, each with
SIGTERM and a bounded wait, then SIGKILL. Children live in their own process group (a
terminal's Ctrl-C reaches only the runner, which then stops them in order) and run under
``runner.guard``, which stops them if the runner dies without doing so.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import signal
import sys
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from meshkit.manifest import GO, GatewaySpec, Manifest, ServiceSpec
from runner import impls, plan, preflight, probe
from runner.outcomes import ServiceExit, ServiceFailed, StopReport

DEFAULT_HOST = "127.0.0.1"
DEFAULT_DATA_DIR = Path("data")
DEFAULT_DRAIN_DELAY_S = 0.5
"""Locally nothing routes by health, so a short drain keeps Ctrl-C snappy."""
DEFAULT_GRACE_S = 5.0
DEFAULT_START_TIMEOUT_S = 30.0
STOP_MARGIN_S = 3.0
"""Added to drain + grace for interpreter teardown before a child counts as hung."""
KILL_WAIT_S = 5.0
OUTPUT_WAIT_S = 2.0
"""How long to wait for a child's last output once it has exited."""
POLL_INTERVAL_S = 0.1
LOG_TAIL_LINES = 20
MAX_LINE_BYTES = 1024 * 1024
GUARD_MODULE = impls.GUARD_MODULE

LogSink = Callable[[str, str], None]
"""Receives (service name, one line of its output without the newline)."""
EventSink = Callable[[str], None]
"""Receives one human-readable line about the mesh itself."""
HealthCheck = Callable[[float], Awaitable[str]]
"""One health check with a timeout in seconds; returns a ``probe`` state word."""


@dataclass
class _Child:
    name: str
    process: asyncio.subprocess.Process
    exited: asyncio.Task[int]
    readers: list[asyncio.Task[None]] = field(default_factory=list)
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=LOG_TAIL_LINES))
    killed: bool = False
    terminated: bool = False

    async def finish(self) -> None:
        """Waits (bounded) for the last output of an exited child and closes its stdin."""
        if self.readers:
            _, pending = await asyncio.wait(self.readers, timeout=OUTPUT_WAIT_S)
            for reader in pending:
                reader.cancel()
        if self.process.stdin is not None:
            self.process.stdin.close()


def _ignore(*_: object) -> None:
    pass


class LocalMesh:
    """Runs a manifest's services locally; use as ``async with LocalMesh(...) as mesh``.

    ``base_env`` is the environment the children start from; None inherits this process's
    environment, as ``subprocess`` does. Output goes to ``on_log`` and lifecycle messages
    to ``on_event`` (both discard by default); the last lines of each service are kept
    either way for ``ServiceFailed`` and ``log_tail``. ``only`` selects services (their
    dependencies are added); an unknown name raises ``plan.SelectionError``. The
    manifest's gateway runs too when every one of its upstreams is selected, unless
    ``with_gateway`` is False.

    ``transport="rest"`` runs every service as its REST/JSON baseline instead, on its
    ``rest_port`` only, with data under DATA_DIR/rest and processes named
    ``<service>-rest``; there is no gateway then (it transcodes to gRPC), and a selected
    service without a ``rest_port`` raises ``plan.TransportError``.

    ``impl`` chooses implementations (``runner.impls``): ``"go"`` runs every service that
    has a Go implementation as its Go binary, ``"pricing=go"`` just that one; by default
    each runs the manifest's ``impl``. An implementation a service lacks raises
    ``impls.ImplementationError``.
    """

    def __init__(
        self,
        manifest: Manifest,
        *,
        host: str = DEFAULT_HOST,
        data_dir: Path = DEFAULT_DATA_DIR,
        only: Iterable[str] = (),
        with_gateway: bool = True,
        drain_delay_s: float = DEFAULT_DRAIN_DELAY_S,
        grace_s: float = DEFAULT_GRACE_S,
        start_timeout_s: float = DEFAULT_START_TIMEOUT_S,
        base_env: Mapping[str, str] | None = None,
        on_log: LogSink = _ignore,
        on_event: EventSink = _ignore,
        transport: str = plan.GRPC,
        impl: impls.Choice = "",
    ) -> None:
        self.manifest = manifest
        self.services: tuple[ServiceSpec, ...] = plan.select_services(manifest, only)
        plan.check_transport(self.services, transport)
        self.implementations: dict[str, str] = impls.choose(self.services, impl)
        """Service name → the implementation it runs ("python" or "go")."""
        self.transport = transport
        self.gateway: GatewaySpec | None = plan.select_gateway(
            manifest, self.services, enabled=with_gateway and transport == plan.GRPC
        )
        self.host = host
        self._data_dir = data_dir.resolve()
        self._drain_delay_s = drain_delay_s
        self._grace_s = grace_s
        self._start_timeout_s = start_timeout_s
        self._base_env = os.environ if base_env is None else base_env
        self._on_log = on_log
        self._on_event = on_event
        self._children: list[_Child] = []
        self._bring_up: list[asyncio.Task[None]] = []
        self._stopping: asyncio.Task[StopReport] | None = None
        self._unexpected: asyncio.Future[ServiceExit] | None = None

    @property
    def addresses(self) -> dict[str, str]:
        """Service name → gRPC address to dial, for every selected service; empty for a
        REST mesh (see ``rest_urls``)."""
        if self.transport != plan.GRPC:
            return {}
        return {spec.name: plan.grpc_address(spec, self.host) for spec in self.services}

    def address(self, name: str) -> str:
        """The gRPC address of one service."""
        return self.addresses[name]

    @property
    def rest_urls(self) -> dict[str, str]:
        """Service name → REST base URL (``http://127.0.0.1:9055``, no trailing slash), for
        every selected service; empty for a gRPC mesh."""
        if self.transport != plan.REST:
            return {}
        return {spec.name: plan.rest_url(spec, self.host) for spec in self.services}

    def rest_url(self, name: str) -> str:
        """The REST base URL of one service."""
        return self.rest_urls[name]

    @property
    def process_names(self) -> tuple[str, ...]:
        """What logs, events, ``pids`` and ``log_tail`` call each process, in start order
        (``plan.process_name``: ``orders``, or ``orders-rest`` over REST; the gateway last)."""
        names = tuple(plan.process_name(spec.name, self.transport) for spec in self.services)
        return names if self.gateway is None else (*names, self.gateway.name)

    @property
    def gateway_url(self) -> str | None:
        """The gateway's base URL (``http://host:port``), or None when it does not run."""
        return None if self.gateway is None else plan.gateway_url(self.gateway, self.host)

    @property
    def pids(self) -> dict[str, int]:
        """Process name → pid, for every service (and the gateway) started so far."""
        return {child.name: child.process.pid for child in self._children}

    def log_tail(self, name: str) -> tuple[str, ...]:
        """The last output lines of a started process, by its process name (up to
        LOG_TAIL_LINES)."""
        for child in self._children:
            if child.name == name:
                return tuple(child.tail)
        return ()

    async def __aenter__(self) -> LocalMesh:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    def preflight(self) -> None:
        """Raises ``preflight.PreflightError`` when the mesh cannot start (a module that
        cannot run, a port taken); ``start()`` checks this first."""
        python = [s for s in self.services if self.implementations[s.name] != GO]
        preflight.check_modules(python, self.gateway)
        for spec in self.services:
            problem = impls.problem(spec, self.implementations[spec.name])
            if problem is not None:
                raise preflight.PreflightError(problem)
        preflight.check_ports(self.services, self.host, self.gateway, transport=self.transport)

    async def start(self) -> None:
        """Checks, starts and health-gates every service; on failure stops what started.

        Raises ``preflight.PreflightError`` (nothing was started) or ``ServiceFailed``.
        Cancel it to abort start-up; ``stop()`` still has to be awaited afterwards.
        """
        self.preflight()
        loop = asyncio.get_running_loop()
        self._unexpected = loop.create_future()
        deadline = loop.time() + self._start_timeout_s
        ready = {spec.name: asyncio.Event() for spec in self.services}
        self._bring_up = [
            asyncio.create_task(
                self._bring_up_one(spec, ready, deadline), name=f"start-{spec.name}"
            )
            for spec in self.services
        ]
        if self.gateway is not None:
            self._bring_up.append(
                asyncio.create_task(
                    self._bring_up_gateway(self.gateway, ready.values(), deadline),
                    name="start-gateway",
                )
            )
        try:
            await asyncio.gather(*self._bring_up)
        except BaseException:
            await self.stop()
            raise

    async def wait_for_exit(self) -> ServiceExit:
        """Returns once any service exits without having been asked to."""
        assert self._unexpected is not None, "start() first"
        return await asyncio.shield(self._unexpected)

    async def stop(self) -> StopReport:
        """Stops every started service, dependents first; safe to call more than once."""
        if self._stopping is None:
            self._stopping = asyncio.create_task(self._stop_all())
        return await asyncio.shield(self._stopping)

    def kill(self) -> None:
        """SIGKILLs every service still running, now (the second Ctrl-C)."""
        for child in self._children:
            if child.process.returncode is None:
                child.killed = True
                with contextlib.suppress(ProcessLookupError):
                    child.process.kill()

    async def _bring_up_one(
        self, spec: ServiceSpec, ready: Mapping[str, asyncio.Event], deadline: float
    ) -> None:
        for dependency in spec.depends_on:
            await ready[dependency].wait()
        if spec.stateful:
            plan.data_dir_of(spec, self._data_dir, self.transport).mkdir(
                parents=True, exist_ok=True
            )
        env = plan.child_env(
            spec,
            self.manifest,
            host=self.host,
            data_dir=self._data_dir,
            drain_delay_s=self._drain_delay_s,
            grace_s=self._grace_s,
            base_env=self._base_env,
            transport=self.transport,
        )
        name = plan.process_name(spec.name, self.transport)
        impl = self.implementations[spec.name]
        child = await self._spawn(name, impls.command(spec, impl), env, impls.describe(spec, impl))
        address = plan.address(spec, self.host, self.transport)
        if self.transport == plan.REST:
            check = functools.partial(probe.check_http, plan.readyz_url(spec, self.host, plan.REST))
            await self._gate(child, deadline, check, address)
        else:
            async with probe.probe_channel(address) as channel:
                await self._gate(child, deadline, functools.partial(probe.check, channel), address)
        ready[spec.name].set()

    async def _bring_up_gateway(
        self, gateway: GatewaySpec, ready: Iterable[asyncio.Event], deadline: float
    ) -> None:
        # Last of all, so that it is also stopped first (_stop_all goes in reverse).
        for event in ready:
            await event.wait()
        env = plan.gateway_env(
            gateway,
            self.manifest,
            host=self.host,
            drain_delay_s=self._drain_delay_s,
            grace_s=self._grace_s,
            base_env=self._base_env,
        )
        argv = [sys.executable, "-m", GUARD_MODULE, gateway.module]
        child = await self._spawn(gateway.name, argv, env, f"python -m {gateway.module}")
        healthz = plan.gateway_healthz_url(gateway, self.host)
        check = functools.partial(probe.check_http, healthz)
        await self._gate(child, deadline, check, plan.gateway_url(gateway, self.host))

    async def _spawn(self, name: str, argv: list[str], env: Mapping[str, str], what: str) -> _Child:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,  # held open and never written: see guard.py
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            # Its own session, so its own process group: a terminal's Ctrl-C reaches only the
            # runner. (start_new_session rather than process_group: uvloop knows only the former.)
            start_new_session=True,
            limit=MAX_LINE_BYTES,
        )
        child = _Child(name, process, asyncio.create_task(process.wait()))
        child.exited.add_done_callback(lambda _: self._on_exit(child))
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                child.readers.append(asyncio.create_task(self._pump(child, stream)))
        self._children.append(child)
        self._on_event(f"started {name} (pid {process.pid}): {what}")
        return child

    async def _pump(self, child: _Child, stream: asyncio.StreamReader) -> None:
        while True:
            try:
                raw = await stream.readline()
            except ValueError:  # one line over MAX_LINE_BYTES: readline dropped it
                raw = b"[mesh: an over-long output line was dropped]\n"
            if not raw:
                return
            line = raw.decode(errors="replace").rstrip("\r\n")
            child.tail.append(line)
            self._on_log(child.name, line)

    async def _gate(self, child: _Child, deadline: float, check: HealthCheck, where: str) -> None:
        """Polls ``check`` until SERVING; ServiceFailed if the child exits or time runs out."""
        loop = asyncio.get_running_loop()
        name = child.name
        started, status = loop.time(), probe.UNREACHABLE
        while True:
            if child.exited.done():
                await child.finish()
                outcome = ServiceExit(name, child.exited.result()).outcome
                raise ServiceFailed(name, outcome, child.tail)
            remaining = deadline - loop.time()
            if remaining <= 0:
                reason = f"not SERVING within {self._start_timeout_s:g}s (last: {status})"
                raise ServiceFailed(name, reason, child.tail)
            status = await check(min(probe.DEFAULT_CHECK_TIMEOUT_S, remaining))
            if status == probe.SERVING:
                break
            # Wakes at once if the process exits instead of waiting out the interval.
            await asyncio.wait({child.exited}, timeout=POLL_INTERVAL_S)
        self._on_event(f"{name} SERVING on {where} after {loop.time() - started:.1f}s")

    def _on_exit(self, child: _Child) -> None:
        if self._stopping is not None or self._unexpected is None or self._unexpected.done():
            return
        code = child.exited.result() if not child.exited.cancelled() else None
        self._unexpected.set_result(ServiceExit(child.name, code))

    async def _stop_all(self) -> StopReport:
        loop = asyncio.get_running_loop()
        began = loop.time()
        for task in self._bring_up:
            task.cancel()
        await asyncio.gather(*self._bring_up, return_exceptions=True)
        # Reverse start order: the gateway (always started last), then every service
        # before the ones it calls.
        exits = [await self._stop_one(child) for child in reversed(self._children)]
        return StopReport(tuple(exits), loop.time() - began)

    async def _stop_one(self, child: _Child) -> ServiceExit:
        name = child.name
        if child.process.returncode is None:
            budget = self._drain_delay_s + self._grace_s + STOP_MARGIN_S
            self._on_event(f"stopping {name} (SIGTERM)")
            child.terminated = True
            with contextlib.suppress(ProcessLookupError):
                child.process.send_signal(signal.SIGTERM)
            done, _ = await asyncio.wait({child.exited}, timeout=budget)
            if not done:
                self._on_event(f"{name} did not exit within {budget:g}s: sending SIGKILL")
                child.killed = True
                with contextlib.suppress(ProcessLookupError):
                    child.process.kill()
                await asyncio.wait({child.exited}, timeout=KILL_WAIT_S)
        await child.finish()
        result = ServiceExit(name, child.process.returncode, child.killed, child.terminated)
        self._on_event(result.describe())
        return result
