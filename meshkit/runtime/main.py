"""The body of every service's ``__main__``: config from the environment, the transport
it names, then serve until SIGTERM/SIGINT (the one place signals are handled).

``SHOPMESH_TRANSPORT=grpc`` (the default) runs the service's servicers in a
``ServiceHost``; ``rest`` runs its REST/JSON baseline in a ``RestHost`` on uvloop with
uvicorn's httptools parser, the tuned stack a REST team would pick.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NoReturn, Protocol

import uvloop

from meshkit.env import ConfigError
from meshkit.manifest import ManifestError, load_manifest
from meshkit.runtime.config import RuntimeConfig, runtime_config_from_env
from meshkit.runtime.logs import setup_logging
from meshkit.runtime.rest.host import RestBuild, RestHost
from meshkit.runtime.server import BuildParts, ServiceHost
from meshkit.runtime.tracing import setup_tracing
from meshkit.startup import StartupError

_log = logging.getLogger("shopmesh.server")


@dataclass(frozen=True)
class Transports:
    """How a service is built for each transport."""

    grpc: BuildParts
    rest: RestBuild


class Host(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


async def serve(host: Host) -> None:
    """Runs ``host`` until SIGTERM or SIGINT, then drains it."""
    await host.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    _log.info("signal received")
    await host.stop()


def service_main(
    name: str, env: Mapping[str, str], build_from_env: Callable[[Mapping[str, str]], Transports]
) -> NoReturn:
    """Reads the config of service ``name`` from ``env`` and serves until signalled.

    A bad setting exits with status 2 and one line naming it, never a traceback.
    """
    try:
        config = runtime_config_from_env(load_manifest(), name, env)
        transports = build_from_env(env)
    except (ConfigError, ManifestError) as exc:
        print(f"{name}: configuration error: {exc}", file=sys.stderr)
        sys.exit(2)
    sys.exit(run_service(config, transports))


def run_service(config: RuntimeConfig, transports: Transports) -> int:
    """Serves ``config.transport``; returns the process exit code."""
    setup_logging(config.service_name, config.log_level)
    try:
        if config.transport == "rest":
            # Tracing is not wired into the REST baseline (docs/REST_BASELINE.md).
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                runner.run(serve(RestHost(config, transports.rest)))
        else:
            tracing = setup_tracing(config.tracing)
            asyncio.run(serve(ServiceHost(config, transports.grpc, tracing)))
    except StartupError as exc:
        _log.error(str(exc))
        return 2
    return 0
