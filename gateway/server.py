"""Assembling the gateway: descriptors → routes → transcoder → docs → edge, under uvicorn.

The route table holds what the edge routes: public RPCs, plus admin ones (behind an API
key) when ``admin_routes`` is on; the OpenAPI document is built from that same table.

``build_gateway`` returns the ASGI app (plus what shutdown needs); ``run`` serves it
with the edge's uvicorn settings and drain sequence. One process, one long-lived gRPC
channel per upstream. Scale with more processes (ECS tasks), not uvicorn ``--workers``:
a worker would lose the drain sequence.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from google.protobuf import descriptor_pb2

from gateway.admin import admin_policy
from gateway.app import Transcoder
from gateway.comments import comments_by_name
from gateway.config import GatewayConfig
from gateway.docs_page import DocsApp
from gateway.edge.auth import Policy, prefix_policy
from gateway.edge.drain import Drain
from gateway.edge.server import DrainingServer, uvicorn_config
from gateway.edge.stack import build_edge
from gateway.openapi import API_KEY_SCHEME, API_KEY_SECURITY, openapi_document
from gateway.routes import RouteTable
from gateway.tracing import HttpTracing
from gateway.upstream import Upstreams
from gateway.visibility import Visibility, edge_surface
from meshkit.runtime.logs import setup_logging
from meshkit.runtime.tracing import Tracing, setup_tracing

_log = logging.getLogger("shopmesh.gateway")


@dataclass
class Gateway:
    app: Any
    drain: Drain
    upstreams: Upstreams
    tracing: Tracing
    table: RouteTable


def security_schemes(config: GatewayConfig) -> dict[str, Any]:
    """The OpenAPI security schemes the edge's prefix auth rules use (admin operations
    add the API key scheme to their own operations)."""
    rules = {config.edge.auth_default, *(rule for _, rule in config.edge.auth_routes)}
    schemes: dict[str, Any] = {}
    if "api_key" in rules:
        schemes[API_KEY_SCHEME] = API_KEY_SECURITY
    if "bearer" in rules:
        schemes["bearer"] = {"type": "http", "scheme": "bearer"}
    return schemes


def auth_policy(config: GatewayConfig, table: RouteTable) -> Policy:
    """The edge's prefix rules, with the API key in front of every admin route."""
    rules = prefix_policy(config.edge.auth_default, config.edge.auth_routes)
    if any(route.visibility is Visibility.ADMIN for route in table.routes):
        return admin_policy(table, rules)
    return rules


def build_gateway(config: GatewayConfig, tracing: Tracing | None = None) -> Gateway:
    tracing = tracing or Tracing([], [])
    table = RouteTable.from_descriptor_set(
        config.descriptors, surface=edge_surface(config.admin_routes)
    )
    assert table.pool is not None
    missing = sorted({r.service for r in table.routes} - set(config.upstreams))
    if missing:
        raise ValueError(f"no upstream address for {', '.join(missing)}")
    upstreams = Upstreams(
        config.upstreams,
        table.pool,
        default_deadline_s=config.transcoder.default_deadline_s,
        client_interceptors=tracing.client_interceptors,
    )
    drain = Drain(config.edge.drain_grace_s)
    app: Any = Transcoder(
        table,
        table.pool,
        upstreams,
        config.transcoder,
        forward_trace_headers=tracing.provider is None,
        closing=drain.closing,
    )
    if tracing.provider is not None:
        app = HttpTracing(app, tracing.provider)
    files = descriptor_pb2.FileDescriptorSet.FromString(config.descriptors.read_bytes()).file
    document = openapi_document(
        table.routes, comments_by_name(files), security_schemes=security_schemes(config)
    )
    app = DocsApp(app, document)
    edge = build_edge(app, config.edge, drain, policy=auth_policy(config, table))
    return Gateway(edge, drain, upstreams, tracing, table)


def run(config: GatewayConfig) -> None:
    setup_logging("gateway", config.log_level)
    gateway = build_gateway(config, setup_tracing(config.tracing))
    uvicorn = uvicorn_config(
        gateway.app, config.edge, host=config.host, port=config.port, log_level="warning"
    )
    _log.info(
        "gateway serving",
        extra={
            "host": config.host,
            "port": config.port,
            "routes": len(gateway.table.routes),
            "admin_routes": config.admin_routes,
        },
    )
    DrainingServer(uvicorn, gateway.drain, config.edge).run()
    gateway.tracing.shutdown()
