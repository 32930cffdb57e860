"""``python -m runner run|status``: the local mesh from a terminal (exit status
in ``EXIT_STATUS_HELP``)."""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from meshkit.manifest import DEFAULT_MANIFEST, ManifestError, load_manifest
from runner import impls, plan, probe, restarts, state, status, supervisor, table
from runner.console import Console
from runner.group import MeshGroup
from runner.outcomes import ServiceExit, ServiceFailed
from runner.preflight import PreflightError
from runner.supervisor import LocalMesh

EXIT_OK, EXIT_FAILED, EXIT_UNUSABLE = 0, 1, 2
EXIT_STATUS_HELP = (
    "Exit status: 0 success (run: every service and the gateway stopped cleanly; status:"
    " all SERVING), 1 a service or the gateway failed to start, kept dying (more restarts"
    " than --max-restarts within --restart-window-s) or did not stop cleanly (status: not"
    " all SERVING), 2 the mesh could not start at all (bad arguments or manifest, a port"
    " taken, a service without a rest_port over REST)."
)
BOTH = "both"
TRANSPORT_CHOICES = (plan.GRPC, plan.REST, BOTH)
TRANSPORT_ENV = "MESH_TRANSPORT"
"""The default of --transport, when set."""
IMPL_ENV = "MESH_IMPL"
"""The default of --impl, when set."""


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, got {text!r}") from None
    if not 0 <= value <= 3600:
        raise argparse.ArgumentTypeError(f"must be 0..3600 seconds, got {text}")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if not 0 <= value <= 1000:
        raise argparse.ArgumentTypeError(f"must be 0..1000, got {text}")
    return value


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m runner``."""
    parser = argparse.ArgumentParser(
        prog="python -m runner",
        description=(
            "Run the services of the mesh manifest and its REST/JSON gateway locally,"
            " or check their health; over gRPC, as the REST/JSON baseline, or both side by"
            " side."
        ),
        epilog=EXIT_STATUS_HELP,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="start everything and stream the logs until Ctrl-C")
    status = commands.add_parser("status", help="check each service's and the gateway's health")
    for command in (run, status):
        command.add_argument(
            "--manifest", type=Path, default=DEFAULT_MANIFEST, help="default: services/mesh.toml"
        )
        command.add_argument(
            "--host", default=supervisor.DEFAULT_HOST, help="listen address (default: %(default)s)"
        )
        command.add_argument(
            "--only",
            type=_names,
            default=(),
            metavar="NAME,NAME",
            help=(
                "only these services (and what they depend on); the gateway comes along"
                " when all its upstreams are selected, and 'gateway' selects them"
            ),
        )
        command.add_argument(
            "--no-gateway", action="store_true", help="leave the REST/JSON gateway out"
        )
        command.add_argument(
            "--transport",
            choices=TRANSPORT_CHOICES,
            help=(
                "grpc: the gRPC services and the gateway; rest: the services' REST/JSON"
                " baseline on their rest_port (no gateway), logged as <service>-rest;"
                f" both: the two meshes side by side (default: ${TRANSPORT_ENV}, else grpc)"
            ),
        )
        command.add_argument(
            "--data-dir",
            type=Path,
            default=supervisor.DEFAULT_DATA_DIR,
            help=(
                "stateful services keep data in DATA_DIR/<service>, over REST in"
                f" DATA_DIR/rest/<service>; the runner keeps DATA_DIR/{state.STATE_FILE}"
                " (pids, restarts) for status while it runs (default: %(default)s)"
            ),
        )
    for flag, default, what in (
        ("--drain-delay-s", supervisor.DEFAULT_DRAIN_DELAY_S, "NOT_SERVING before closing"),
        ("--grace-s", supervisor.DEFAULT_GRACE_S, "in-flight RPCs get to finish"),
        ("--start-timeout-s", supervisor.DEFAULT_START_TIMEOUT_S, "for the mesh to be SERVING"),
    ):
        run.add_argument(flag, type=_seconds, default=default, help=f"{what} (default: {default})")
    run.add_argument(
        "--max-restarts",
        type=_count,
        default=restarts.DEFAULT_MAX_RESTARTS,
        help=(
            "a service or the gateway that exits on its own is restarted (backoff from"
            f" {restarts.DEFAULT_INITIAL_BACKOFF_S:g}s, doubling up to"
            f" {restarts.DEFAULT_MAX_BACKOFF_S:g}s); more restarts than this within the"
            " window and the mesh stops; 0: never restart (default: %(default)s)"
        ),
    )
    run.add_argument(
        "--restart-window-s",
        type=_seconds,
        default=restarts.DEFAULT_WINDOW_S,
        help="the window --max-restarts counts in (default: %(default)s)",
    )
    run.add_argument("--raw-logs", action="store_true", help="print service log lines untouched")
    run.add_argument(
        "--impl",
        metavar="CHOICE",
        help=(
            "implementations to run: 'go' (every service that has a Go implementation),"
            " 'python', or per service 'pricing=go,inventory=go' (default: $"
            f"{IMPL_ENV}, else each service's impl in the manifest)"
        ),
    )
    return parser


def chosen_transports(flag: str | None, env: Mapping[str, str]) -> tuple[str, ...]:
    """The meshes to run, by transport: ``--transport``, else $MESH_TRANSPORT, else grpc;
    ``both`` is gRPC then REST. An unknown word in the environment raises TransportError
    (argparse has already refused one on the command line)."""
    chosen = flag or env.get(TRANSPORT_ENV) or plan.GRPC
    if chosen not in TRANSPORT_CHOICES:
        raise plan.TransportError(
            f"{TRANSPORT_ENV} must be one of {', '.join(TRANSPORT_CHOICES)}, got {chosen!r}"
        )
    return (plan.GRPC, plan.REST) if chosen == BOTH else (chosen,)


def main(
    argv: Sequence[str] | None,
    env: Mapping[str, str],
    out: TextIO,
    err: TextIO,
) -> int:
    """Runs one command; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        transports = chosen_transports(args.transport, env)
        manifest = load_manifest(args.manifest)
        specs = plan.select_services(manifest, args.only)
        for transport in transports:
            plan.check_transport(specs, transport)
        impl = (getattr(args, "impl", None) or env.get(IMPL_ENV, "")).strip()
        impls.choose(specs, impl)
    except (ManifestError, plan.SelectionError) as exc:
        err.write(f"mesh: {exc}\n")
        return EXIT_UNUSABLE
    enabled = not args.no_gateway and plan.GRPC in transports
    gateway = plan.select_gateway(manifest, specs, enabled=enabled)
    colour = out.isatty() and "NO_COLOR" not in env
    names = [plan.process_name(spec.name, t) for t in transports for spec in specs]
    names += [gateway.name] if gateway else []
    state_file = state.state_path(args.data_dir)
    if args.command == "status":
        console = Console(out, err, names, colour=colour)
        known = {name: p.restarts for name, p in state.read_state(state_file).items()}
        report = status.report(specs, gateway, transports, args.host, console, known)
        return EXIT_OK if asyncio.run(report) else EXIT_FAILED
    if args.restart_window_s <= 0:
        err.write("mesh: --restart-window-s must be above 0\n")
        return EXIT_UNUSABLE
    console = Console(out, err, names, colour=colour, raw_logs=args.raw_logs)
    policy = restarts.RestartPolicy(args.max_restarts, args.restart_window_s)
    supervision = _Supervision(console, state_file, policy)
    meshes = MeshGroup(
        LocalMesh(
            manifest,
            host=args.host,
            data_dir=args.data_dir,
            only=args.only,
            with_gateway=not args.no_gateway,
            drain_delay_s=args.drain_delay_s,
            grace_s=args.grace_s,
            start_timeout_s=args.start_timeout_s,
            base_env=env,
            on_log=console.log,
            on_event=console.event,
            transport=transport,
            impl=impl,
            restart_policy=policy,
            on_restarted=supervision.restarted,
        )
        for transport in transports
    )
    supervision.group = meshes
    try:
        return asyncio.run(_run(meshes, console, supervision))
    finally:
        state.remove_state(state_file)


class _Supervision:
    """What the terminal and the state file learn of restarts: the table again, with its
    RESTARTS column, and the file ``status`` reads."""

    def __init__(self, console: Console, path: Path, policy: restarts.RestartPolicy) -> None:
        self.group: MeshGroup | None = None
        self.policy = policy
        self._console = console
        self._path = path

    def ready(self) -> None:
        self._write()

    def restarted(self, name: str) -> None:
        self._write()
        if self.group is not None:
            self._console.block("")
            self._console.block(_table(self.group))
            self._console.block("")

    def gave_up(self, gone: ServiceExit) -> str:
        """The headline for a process the mesh gave up on."""
        headline = f"{gone.describe()} unexpectedly"
        if self.policy.enabled:
            headline += f" after {gone.restarts} restart(s) ({self.policy.describe()})"
        return headline + "; stopping the mesh"

    def _write(self) -> None:
        if self.group is None:
            return
        pids, counts = self.group.pids, self.group.restarts
        processes = {
            name: state.ProcessState(pid, counts.get(name, 0)) for name, pid in pids.items()
        }
        try:
            state.write_state(self._path, processes)
        except OSError as exc:  # the mesh runs on; only `status` loses the counts
            self._console.error(f"cannot write {self._path}: {exc.strerror}")


async def _run(mesh: MeshGroup, console: Console, supervision: _Supervision) -> int:
    stop_requested = asyncio.Event()

    def on_signal(signum: signal.Signals) -> None:
        if not stop_requested.is_set():
            console.event(f"{signum.name}: stopping dependents first (again to kill at once)")
            stop_requested.set()
        else:
            console.event(f"{signum.name} again: killing every service now")
            mesh.kill()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal, signum)
    stop_wait = asyncio.create_task(stop_requested.wait())
    try:
        return await _supervise(mesh, console, stop_wait, supervision)
    finally:
        stop_wait.cancel()


async def _supervise(
    mesh: MeshGroup, console: Console, stop_wait: asyncio.Task[bool], supervision: _Supervision
) -> int:
    start = asyncio.create_task(mesh.start())
    await asyncio.wait({start, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
    if not start.done():  # interrupted during start-up: start() stops what it started
        start.cancel()
        await asyncio.gather(start, return_exceptions=True)
        return await _stopped(mesh, console, EXIT_OK)
    failure = start.exception()
    if isinstance(failure, PreflightError):
        console.error(str(failure))
        return EXIT_UNUSABLE
    if isinstance(failure, ServiceFailed):
        _report_failure(console, str(failure), failure.log_tail)
        return await _stopped(mesh, console, EXIT_FAILED)
    if failure is not None:
        raise failure

    _print_ready(mesh, console)
    supervision.ready()
    exited = asyncio.create_task(mesh.wait_for_exit())
    await asyncio.wait({exited, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
    if not exited.done():
        exited.cancel()
        return await _stopped(mesh, console, EXIT_OK)
    gone = exited.result()
    _report_failure(console, supervision.gave_up(gone), mesh.log_tail(gone.name))
    return await _stopped(mesh, console, EXIT_FAILED)


async def _stopped(mesh: MeshGroup, console: Console, status: int) -> int:
    report = await mesh.stop()
    console.event(report.summary())
    return status if status != EXIT_OK or report.clean else EXIT_FAILED


def _report_failure(console: Console, headline: str, tail: Sequence[str]) -> None:
    console.error(headline)
    if tail:
        console.error(f"its last {len(tail)} output line(s):")
        for line in tail:
            console.error(f"    {line}")


def _table(group: MeshGroup) -> str:
    """Every process of the group: address, health URL, state, pid, restarts (once any)."""
    rows = [
        row
        for mesh in group.meshes
        for row in table.rows(
            mesh.services,
            mesh.host,
            {name: probe.SERVING if mesh.serving(name) else "RESTARTING" for name in mesh.pids},
            mesh.pids,
            mesh.gateway,
            mesh.transport,
            mesh.restarts,
        )
    ]
    return table.render_table(rows)


def _print_ready(group: MeshGroup, console: Console) -> None:
    console.block("")
    console.block(_table(group))
    console.block("")
    for mesh in group.meshes:
        if mesh.transport == plan.REST:
            console.block(table.render_rest_curl(mesh.services, mesh.host))
        else:
            console.block(table.render_grpcurl(mesh.services, mesh.host))
        console.block("")
        if mesh.gateway is not None:
            console.block(table.render_curl(mesh.gateway, mesh.host))
            console.block("")
    serving = "; ".join(map(_serving, group.meshes))
    console.event(f"ready: {serving}; Ctrl-C stops them")


def _serving(mesh: LocalMesh) -> str:
    """``5 service(s) SERVING, gateway on http://...``, or ``... SERVING over REST``."""
    text = f"{len(mesh.services)} service(s) SERVING"
    if mesh.transport == plan.REST:
        return f"{text} over REST"
    return text if mesh.gateway_url is None else f"{text}, gateway on {mesh.gateway_url}"
