"""``python -m services.mesh run|status``: the local mesh from a terminal (exit status
in ``EXIT_STATUS_HELP``)."""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from services.manifest import (
    DEFAULT_MANIFEST,
    GatewaySpec,
    ManifestError,
    ServiceSpec,
    load_manifest,
)
from services.mesh import plan, probe, supervisor, table
from services.mesh.console import Console
from services.mesh.outcomes import ServiceFailed
from services.mesh.preflight import PreflightError
from services.mesh.supervisor import LocalMesh

EXIT_OK, EXIT_FAILED, EXIT_UNUSABLE = 0, 1, 2
EXIT_STATUS_HELP = (
    "Exit status: 0 success (run: every service and the gateway stopped cleanly; status:"
    " all SERVING), 1 a service or the gateway failed or did not stop cleanly (status: not"
    " all SERVING), 2 the mesh could not start at all (bad arguments or manifest, a port"
    " taken)."
)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, got {text!r}") from None
    if not 0 <= value <= 3600:
        raise argparse.ArgumentTypeError(f"must be 0..3600 seconds, got {text}")
    return value


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m services.mesh``."""
    parser = argparse.ArgumentParser(
        prog="python -m services.mesh",
        description=(
            "Run the services of the mesh manifest and its REST/JSON gateway locally,"
            " or check their health."
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
    run.add_argument(
        "--data-dir",
        type=Path,
        default=supervisor.DEFAULT_DATA_DIR,
        help="stateful services keep data in DATA_DIR/<service> (default: %(default)s)",
    )
    for flag, default, what in (
        ("--drain-delay-s", supervisor.DEFAULT_DRAIN_DELAY_S, "NOT_SERVING before closing"),
        ("--grace-s", supervisor.DEFAULT_GRACE_S, "in-flight RPCs get to finish"),
        ("--start-timeout-s", supervisor.DEFAULT_START_TIMEOUT_S, "for the mesh to be SERVING"),
    ):
        run.add_argument(flag, type=_seconds, default=default, help=f"{what} (default: {default})")
    run.add_argument("--raw-logs", action="store_true", help="print service log lines untouched")
    return parser


def main(
    argv: Sequence[str] | None,
    env: Mapping[str, str],
    out: TextIO,
    err: TextIO,
) -> int:
    """Runs one command; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        manifest = load_manifest(args.manifest)
        specs = plan.select_services(manifest, args.only)
    except (ManifestError, plan.SelectionError) as exc:
        err.write(f"mesh: {exc}\n")
        return EXIT_UNUSABLE
    gateway = plan.select_gateway(manifest, specs, enabled=not args.no_gateway)
    colour = out.isatty() and "NO_COLOR" not in env
    names = [spec.name for spec in specs] + ([gateway.name] if gateway else [])
    if args.command == "status":
        console = Console(out, err, names, colour=colour)
        return asyncio.run(_status(specs, gateway, args.host, console))
    console = Console(out, err, names, colour=colour, raw_logs=args.raw_logs)
    mesh = LocalMesh(
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
    )
    return asyncio.run(_run(mesh, console))


async def _status(
    specs: Sequence[ServiceSpec], gateway: GatewaySpec | None, host: str, console: Console
) -> int:
    checks = {spec.name: probe.check_once(plan.grpc_address(spec, host)) for spec in specs}
    if gateway is not None:
        checks[gateway.name] = probe.check_http(plan.gateway_healthz_url(gateway, host))
    states = dict(zip(checks, await asyncio.gather(*checks.values()), strict=True))
    console.block(table.render_table(table.rows(specs, host, states, gateway=gateway)))
    if all(state == probe.UNREACHABLE for state in states.values()):
        console.error("no service answered: is the mesh running? (python -m services.mesh run)")
    return EXIT_OK if all(state == probe.SERVING for state in states.values()) else EXIT_FAILED


async def _run(mesh: LocalMesh, console: Console) -> int:
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
        return await _supervise(mesh, console, stop_wait)
    finally:
        stop_wait.cancel()


async def _supervise(mesh: LocalMesh, console: Console, stop_wait: asyncio.Task[bool]) -> int:
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
    exited = asyncio.create_task(mesh.wait_for_exit())
    await asyncio.wait({exited, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
    if not exited.done():
        exited.cancel()
        return await _stopped(mesh, console, EXIT_OK)
    gone = exited.result()
    _report_failure(console, f"{gone.describe()} unexpectedly", mesh.log_tail(gone.name))
    return await _stopped(mesh, console, EXIT_FAILED)


async def _stopped(mesh: LocalMesh, console: Console, status: int) -> int:
    report = await mesh.stop()
    console.event(report.summary())
    return status if status != EXIT_OK or report.clean else EXIT_FAILED


def _report_failure(console: Console, headline: str, tail: Sequence[str]) -> None:
    console.error(headline)
    if tail:
        console.error(f"its last {len(tail)} output line(s):")
        for line in tail:
            console.error(f"    {line}")


def _print_ready(mesh: LocalMesh, console: Console) -> None:
    states = dict.fromkeys(mesh.pids, probe.SERVING)
    rows = table.rows(mesh.services, mesh.host, states, mesh.pids, mesh.gateway)
    console.block("")
    console.block(table.render_table(rows))
    console.block("")
    console.block(table.render_grpcurl(mesh.services, mesh.host))
    console.block("")
    if mesh.gateway is not None:
        console.block(table.render_curl(mesh.gateway, mesh.host))
        console.block("")
    serving = f"{len(mesh.services)} service(s) SERVING"
    if mesh.gateway_url is not None:
        serving += f", gateway on {mesh.gateway_url}"
    console.event(f"ready: {serving}; Ctrl-C stops them")
