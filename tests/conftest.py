"""Shared test fixtures: real servers on 127.0.0.1 port 0, never mocks of the transport."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import pytest_asyncio

from meshkit.runtime.config import RuntimeConfig
from meshkit.runtime.rest.host import RestBuild, RestHost
from meshkit.runtime.server import BuildParts, ServiceHost
from meshkit.runtime.tracing import Tracing

pytest_plugins = ("tests.moto_aws",)

TEST_RUNTIME = RuntimeConfig(
    service_name="test",
    host="127.0.0.1",
    grpc_port=0,
    health_port=0,
    drain_delay_s=0.0,
    grace_s=1.0,
    default_deadline_s=2.0,
    access_log=False,
)


@asynccontextmanager
async def running_host(
    build: BuildParts,
    config: RuntimeConfig = TEST_RUNTIME,
    tracing: Tracing | None = None,
    **overrides: object,
) -> AsyncIterator[ServiceHost]:
    """Starts a ServiceHost on free ports and drains it afterwards."""
    host = ServiceHost(replace(config, **overrides), build, tracing)  # type: ignore[arg-type]
    await host.start()
    try:
        yield host
    finally:
        await host.stop(grace_s=0.5, drain_delay_s=0.0)


@asynccontextmanager
async def running_rest_host(
    build: RestBuild, config: RuntimeConfig = TEST_RUNTIME, **overrides: object
) -> AsyncIterator[RestHost]:
    """Starts a REST baseline host on a free port and drains it afterwards."""
    settings = replace(config, transport="rest", rest_port=0)
    host = RestHost(replace(settings, **overrides), build)  # type: ignore[arg-type]
    await host.start()
    try:
        yield host
    finally:
        await host.stop(grace_s=0.5, drain_delay_s=0.0)


@pytest_asyncio.fixture(autouse=True)
async def _no_unhandled_loop_errors() -> AsyncIterator[None]:
    """Fails a test whose event loop reported an error nobody handled (a task that died
    with an exception, a generator that failed while being finalised)."""
    loop = asyncio.get_running_loop()
    errors: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _, context: errors.append(context))
    yield
    await asyncio.sleep(0)  # let finalisers scheduled by the test's last steps run
    loop.set_exception_handler(None)
    assert not errors, [str(e.get("exception") or e.get("message")) for e in errors]
