"""One benchmark server arm per process: ``python -m tools.bench.server ARM LOG_FILE``.

Prints one JSON line ``{"port": N}`` once serving, then serves until SIGTERM or until
its stdin closes (so it never outlives the benchmark), and prints ``{"spans": N}`` (the
spans exported, for the tracing arm) as it stops.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
from typing import TYPE_CHECKING, Any

import grpc
from shopmesh.catalog.v1 import catalog_pb2, catalog_pb2_grpc

from meshkit.runtime.config import RuntimeConfig
from meshkit.runtime.logs import setup_logging
from meshkit.runtime.server import ServiceHost
from meshkit.runtime.tracing import Tracing
from services.catalog.app import build
from services.catalog.domain import Catalog
from services.catalog.servicer import CatalogServicer, product_to_pb
from services.kernel.seed import DEFAULT_PRODUCT_COUNT

if TYPE_CHECKING:
    from tools.bench.discard import DiscardingExporter

BARE = "bare"
RUNTIME = "runtime"
RUNTIME_TRACING = "runtime+tracing"
ARMS = (BARE, RUNTIME, RUNTIME_TRACING)

SERVICE = "catalog"
HOST = "127.0.0.1"
STOP_GRACE_S = 0.5

BENCH_RUNTIME = RuntimeConfig(
    service_name=SERVICE,
    host=HOST,
    drain_delay_s=0.0,  # nobody routes to us: no need to wait for load balancers
    grace_s=STOP_GRACE_S,
    access_log=True,  # as in production
)


class PrebuiltCatalog(CatalogServicer):
    """The real catalog servicer, with GetProduct's answers built once up front.

    The wire bytes match the real servicer's, so the bare arm differs from the runtime
    arm only by the runtime around the handler (and by the catalog lookup it skips).
    """

    def __init__(self) -> None:
        catalog = Catalog.seeded(DEFAULT_PRODUCT_COUNT)
        super().__init__(catalog)
        self._responses = {
            product.sku: catalog_pb2.GetProductResponse(product=product_to_pb(product))
            for product in catalog.list()
        }

    async def GetProduct(  # noqa: N802 - gRPC method name
        self, request: catalog_pb2.GetProductRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> catalog_pb2.GetProductResponse:
        response = self._responses.get(request.sku)
        if response is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, request.sku)
        return response


async def _serve_bare(stopped: asyncio.Event) -> None:
    server = grpc.aio.server()
    catalog_pb2_grpc.add_CatalogServiceServicer_to_server(PrebuiltCatalog(), server)
    port = server.add_insecure_port(f"{HOST}:0")
    await server.start()
    _announce({"port": port})
    await stopped.wait()
    await server.stop(STOP_GRACE_S)
    _announce({"spans": 0})


async def _serve_runtime(stopped: asyncio.Event, traced: bool) -> None:
    tracing = Tracing([], [])
    exporter: DiscardingExporter | None = None
    if traced:
        from tools.bench.discard import discarding_tracing

        tracing, exporter = discarding_tracing(SERVICE)
    host = ServiceHost(BENCH_RUNTIME, build(DEFAULT_PRODUCT_COUNT), tracing)
    await host.start()
    _announce({"port": host.grpc_port})
    await stopped.wait()
    await host.stop()  # flushes the span processor through Tracing.shutdown
    _announce({"spans": exporter.exported if exporter else 0})


def _announce(message: dict[str, int]) -> None:
    print(json.dumps(message), flush=True)


def _stop_on_signal_or_eof(stopped: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stopped.set)
    loop.add_signal_handler(signal.SIGINT, stopped.set)
    # The parent holds our stdin open and never writes to it: if the parent dies, even by
    # SIGKILL, stdin becomes readable at EOF and we stop instead of serving forever.
    stdin = sys.stdin.fileno()

    def on_stdin() -> None:
        if not os.read(stdin, 1):
            loop.remove_reader(stdin)  # EOF stays readable: don't spin on it while draining
            stopped.set()

    loop.add_reader(stdin, on_stdin)


async def _main(arm: str) -> None:
    stopped = asyncio.Event()
    _stop_on_signal_or_eof(stopped)
    if arm == BARE:
        await _serve_bare(stopped)
    else:
        await _serve_runtime(stopped, traced=arm == RUNTIME_TRACING)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("arm", choices=ARMS)
    parser.add_argument("log_file", help="where the JSON log lines (access log) go")
    args = parser.parse_args()
    # Line-buffered like stderr, so each access-log line costs a write as it would in a
    # container; a file keeps the terminal from becoming the bottleneck. Both the log
    # handler and the runtime's access log write to whatever sys.stderr is when built.
    with (
        open(args.log_file, "a", buffering=1, encoding="utf-8") as log,
        contextlib.redirect_stderr(log),
    ):
        setup_logging(SERVICE, "INFO")
        asyncio.run(_main(args.arm))


if __name__ == "__main__":
    main()
