"""``LocalMesh``: the services of a manifest, and its gateway, as child processes of this one.

Start-up checks every port first, starts each service once its dependencies answer
SERVING, and waits until it answers SERVING itself (gRPC health, or ``GET /readyz``
answering 200 for a mesh of REST/JSON baseline services); the gateway starts last, once
every service is SERVING, and is ready when its ``/healthz`` answers 200. A process that
exits unexpectedly afterwards is started again like ECS replaces a task (``restarts``:
backoff, health gate, a limit after which the mesh gives up). Shutdown goes the
other way round: the gateway first, then dependents before what they call, each with
SIGTERM and a bounded wait, then SIGKILL. Children live in their own process group (a
terminal's Ctrl-C reaches only the runner, which then stops them in order) and run under
``runner.guard``, which stops them if the runner dies without doing so.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import os
import sys
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from meshkit.manifest import GO, GatewaySpec, Manifest, ServiceSpec
from runner import children, impls, plan, preflight, probe
from runner.children import Child, EventSink, LogSink
from runner.outcomes import ServiceExit, ServiceFailed, StopReport
from runner.restarts import DEFAULT_RESTART_POLICY, RestartHistory, RestartPolicy

DEFAULT_HOST = "127.0.0.1"
DEFAULT_DATA_DIR = Path("data")
DEFAULT_DRAIN_DELAY_S = 0.5
"""Locally nothing routes by health, so a short drain keeps Ctrl-C snappy."""
DEFAULT_GRACE_S = 5.0
DEFAULT_START_TIMEOUT_S = 30.0
STOP_MARGIN_S = 3.0
"""Added to drain + grace for interpreter teardown before a child counts as hung."""
POLL_INTERVAL_S = 0.1
LOG_TAIL_LINES = 20
GUARD_MODULE = impls.GUARD_MODULE

HealthCheck = Callable[[float], Awaitable[str]]
"""One health check with a timeout in seconds; returns a ``probe`` state word."""
Gate = Callable[[Child, float], Awaitable[None]]
"""Waits until a just-started child answers SERVING, up to an absolute loop time."""
RestartSink = Callable[[str], None]
"""Hears the process name of a restarted process once it answers SERVING again."""


@dataclass
class _Slot:
    """One process of the mesh across its restarts: how it starts, how it is gated and
    the child running now."""

    name: str
    argv: list[str]
    env: Mapping[str, str]
    what: str
    gate: Gate
    history: RestartHistory
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=LOG_TAIL_LINES))
    child: Child | None = None
    supervised: bool = False
    """SERVING since its last start: an exit from now on is unexpected."""
    restarting: asyncio.Task[None] | None = None


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

    Once started, a service or the gateway that exits without being asked to is started
    again as ``restart_policy`` says (``runner.restarts``; ``NO_RESTARTS`` turns it off),
    health-gated like the first time; ``on_restarted`` hears its name once it is SERVING
    again. ``wait_for_exit`` returns when the mesh gives up on one. ``extra_env`` adds
    variables to some processes (by service or gateway name) over everything else, the
    runner's placement included: fault injection, such as a dependency reached through
    a relay.
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
        restart_policy: RestartPolicy = DEFAULT_RESTART_POLICY,
        on_restarted: RestartSink = _ignore,
        extra_env: Mapping[str, Mapping[str, str]] | None = None,
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
        self.restart_policy = restart_policy
        self._data_dir = data_dir.resolve()
        self._drain_delay_s = drain_delay_s
        self._grace_s = grace_s
        self._start_timeout_s = start_timeout_s
        self._base_env = os.environ if base_env is None else base_env
        self._extra_env = extra_env or {}
        self._on_log = on_log
        self._on_event = on_event
        self._on_restarted = on_restarted
        self._slots: list[_Slot] = []
        self._bring_up: list[asyncio.Task[None]] = []
        self._stopping: asyncio.Task[StopReport] | None = None
        self._unexpected: asyncio.Future[ServiceExit] | None = None
        self._change = asyncio.Event()

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
        """Process name → pid of its current process, for every service (and the gateway)
        started so far."""
        return {slot.name: slot.child.pid for slot in self._slots if slot.child is not None}

    @property
    def restarts(self) -> dict[str, int]:
        """Process name → how many times it was restarted, for every process started."""
        return {slot.name: slot.history.total for slot in self._slots}

    def serving(self, name: str) -> bool:
        """Whether the process is up: SERVING since its last (re)start, not exited since."""
        slot = self._slot_named(name)
        return slot is not None and slot.supervised

    def log_tail(self, name: str) -> tuple[str, ...]:
        """The last output lines of a started process, by its process name (up to
        LOG_TAIL_LINES, across restarts)."""
        slot = self._slot_named(name)
        return () if slot is None else tuple(slot.tail)

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
        """Returns once a process exited unexpectedly and will not be restarted: restarts
        are off, or it used up the restart policy (``restarts`` on the result says how
        many times it was restarted before)."""
        assert self._unexpected is not None, "start() first"
        return await asyncio.shield(self._unexpected)

    async def wait_until_serving(self, name: str, *, restarts: int, timeout_s: float) -> None:
        """Returns once process ``name`` has been restarted at least ``restarts`` times in
        all and is SERVING again. TimeoutError after ``timeout_s``; RuntimeError if the
        mesh gave up on a process or is stopping."""
        assert self._unexpected is not None, "start() first"
        async with asyncio.timeout(timeout_s):
            while True:
                slot = self._slot_named(name)
                if slot is not None and slot.supervised and slot.history.total >= restarts:
                    return
                if self._unexpected.done() or self._stopping is not None:
                    raise RuntimeError(f"{name} will not be SERVING again: the mesh is ending")
                await self._change.wait()

    async def stop(self) -> StopReport:
        """Stops every started service, dependents first; safe to call more than once.
        Restarts in progress are abandoned, never waited for."""
        if self._stopping is None:
            self._stopping = asyncio.create_task(self._stop_all())
            self._notify()
        return await asyncio.shield(self._stopping)

    def kill(self) -> None:
        """SIGKILLs every service still running, now (the second Ctrl-C)."""
        for slot in self._slots:
            if slot.child is not None:
                slot.child.kill()

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
        impl = self.implementations[spec.name]
        slot = self._add_slot(
            plan.process_name(spec.name, self.transport),
            impls.command(spec, impl),
            {**env, **self._extra_env.get(spec.name, {})},
            impls.describe(spec, impl),
            functools.partial(self._gate_service, spec),
        )
        await self._launch(slot, deadline)
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
        slot = self._add_slot(
            gateway.name,
            [sys.executable, "-m", GUARD_MODULE, gateway.module],
            {**env, **self._extra_env.get(gateway.name, {})},
            f"python -m {gateway.module}",
            functools.partial(self._gate_gateway, gateway),
        )
        await self._launch(slot, deadline)

    def _add_slot(
        self, name: str, argv: list[str], env: Mapping[str, str], what: str, gate: Gate
    ) -> _Slot:
        slot = _Slot(name, argv, env, what, gate, RestartHistory(self.restart_policy))
        self._slots.append(slot)
        return slot

    def _slot_named(self, name: str) -> _Slot | None:
        return next((slot for slot in self._slots if slot.name == name), None)

    async def _launch(self, slot: _Slot, deadline: float) -> None:
        """Starts the slot's process and waits until it is SERVING (ServiceFailed if it
        exits first or time runs out); from then on its exits are supervised."""
        # Shielded: a stop() that cancels us mid-spawn must still find the child to stop.
        spawning = asyncio.ensure_future(
            children.spawn(slot.name, slot.argv, slot.env, slot.tail, self._on_log)
        )
        try:
            child = await asyncio.shield(spawning)
        except asyncio.CancelledError:
            slot.child = await spawning
            raise
        slot.child = child
        child.exited.add_done_callback(lambda _: self._on_exit(slot, child))
        self._on_event(f"started {slot.name} (pid {child.pid}): {slot.what}")
        await slot.gate(child, deadline)
        slot.supervised = True

    async def _gate_service(self, spec: ServiceSpec, child: Child, deadline: float) -> None:
        address = plan.address(spec, self.host, self.transport)
        if self.transport == plan.REST:
            check = functools.partial(probe.check_http, plan.readyz_url(spec, self.host, plan.REST))
            await self._gate(child, deadline, check, address)
            return
        async with probe.probe_channel(address) as channel:
            await self._gate(child, deadline, functools.partial(probe.check, channel), address)

    async def _gate_gateway(self, gateway: GatewaySpec, child: Child, deadline: float) -> None:
        check = functools.partial(probe.check_http, plan.gateway_healthz_url(gateway, self.host))
        await self._gate(child, deadline, check, plan.gateway_url(gateway, self.host))

    async def _gate(self, child: Child, deadline: float, check: HealthCheck, where: str) -> None:
        """Polls ``check`` until SERVING; ServiceFailed if the child exits or time runs out."""
        loop = asyncio.get_running_loop()
        name = child.name
        started, status = loop.time(), probe.UNREACHABLE
        while True:
            if child.exited.done():
                await child.finish()
                raise ServiceFailed(name, child.outcome().outcome, child.tail)
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

    def _on_exit(self, slot: _Slot, child: Child) -> None:
        if self._stopping is not None or child is not slot.child or not slot.supervised:
            return  # asked to stop, an earlier incarnation, or still starting (its gate says)
        if child.killed or child.terminated or self._unexpected is None:
            return
        slot.supervised = False
        self._notify()
        slot.restarting = asyncio.create_task(
            self._restart(slot, child.outcome()), name=f"restart-{slot.name}"
        )

    async def _restart(self, slot: _Slot, gone: ServiceExit) -> None:
        """Starts the slot's process again after the policy's backoff, until it is SERVING
        again or the policy says to give up."""
        loop = asyncio.get_running_loop()
        why = f"{gone.describe()} unexpectedly"
        while True:
            if slot.child is not None:
                await slot.child.finish()
            if not slot.history.allows(loop.time()):
                self._give_up(slot, gone, why)
                return
            delay = slot.history.next_backoff_s(loop.time())
            self._on_event(
                f"{why}: restarting it in {delay:g}s (restart {slot.history.total + 1};"
                f" {self.restart_policy.describe()})"
            )
            await asyncio.sleep(delay)
            slot.history.record(loop.time())
            try:
                await self._launch(slot, loop.time() + self._start_timeout_s)
            except ServiceFailed as failure:
                failed = slot.child
                assert failed is not None
                failed.kill()  # not SERVING in time: it does not get to linger
                await asyncio.wait({failed.exited}, timeout=children.KILL_WAIT_S)
                gone, why = failed.outcome(), f"{slot.name} did not come back: {failure.reason}"
                continue
            self._on_event(f"{slot.name} is back: restarted {slot.history.total} time(s) so far")
            self._notify()
            self._on_restarted(slot.name)
            return

    def _give_up(self, slot: _Slot, gone: ServiceExit, why: str) -> None:
        restarts = slot.history.total
        if self.restart_policy.enabled:
            self._on_event(
                f"{why}: giving up on it after {restarts} restart(s)"
                f" ({self.restart_policy.describe()})"
            )
        if self._unexpected is not None and not self._unexpected.done():
            self._unexpected.set_result(dataclasses.replace(gone, restarts=restarts))
        self._notify()

    def _notify(self) -> None:
        """Wakes everyone waiting in ``wait_until_serving`` to look again."""
        change, self._change = self._change, asyncio.Event()
        change.set()

    async def _stop_all(self) -> StopReport:
        loop = asyncio.get_running_loop()
        began = loop.time()
        restarting = [slot.restarting for slot in self._slots if slot.restarting is not None]
        for task in (*self._bring_up, *restarting):
            task.cancel()
        await asyncio.gather(*self._bring_up, *restarting, return_exceptions=True)
        # Reverse start order: the gateway (always started last), then every service
        # before the ones it calls.
        budget = self._drain_delay_s + self._grace_s + STOP_MARGIN_S
        exits = [
            await children.stop(slot.child, budget, self._on_event)
            for slot in reversed(self._slots)
            if slot.child is not None
        ]
        return StopReport(tuple(exits), loop.time() - began)
