"""The stacks of a mesh, in the order they deploy (reverse it to destroy).

network → registry → storage (DynamoDB tables, only with ``storage="dynamodb"``) →
mesh → one stack per service, dependencies first (the manifest already lists services
so) → edge (the gateway, when the manifest has one) → operator (unless turned off).
Each later stack imports exports of earlier ones, so CloudFormation enforces this order
too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from troposphere import Template

from cloudformation.config import StackConfig, validate
from cloudformation.edge import build_edge
from cloudformation.mesh import build_mesh
from cloudformation.names import (
    EDGE,
    MESH,
    NETWORK,
    OPERATOR_STACK,
    REGISTRY,
    STORAGE,
    service_stack,
)
from cloudformation.network import build_network
from cloudformation.operator import build_operator
from cloudformation.registry import build_registry
from cloudformation.service import build_service
from cloudformation.storage import build_storage, stateful_services, uses_table


@dataclass(frozen=True)
class Stack:
    """One stack: its key (``network``, ``svc-orders``) and how to build its template."""

    key: str
    build: Callable[[], Template]
    after: tuple[str, ...]
    """Keys of the stacks whose exports this one imports."""


def deploy_order(config: StackConfig) -> tuple[Stack, ...]:
    """Every stack of the mesh, each after all the stacks it imports from."""
    validate(config)
    tables = config.storage == "dynamodb" and bool(stateful_services(config))
    platform = (
        Stack(NETWORK, lambda: build_network(config), ()),
        Stack(REGISTRY, lambda: build_registry(config), ()),
        *((Stack(STORAGE, lambda: build_storage(config), ()),) if tables else ()),
        Stack(MESH, lambda: build_mesh(config), (NETWORK,)),
    )
    services = tuple(
        Stack(
            service_stack(spec.name),
            lambda spec=spec: build_service(config, spec),  # type: ignore[misc]
            (
                NETWORK,
                REGISTRY,
                *((STORAGE,) if uses_table(spec, config) else ()),
                MESH,
                *(service_stack(dep) for dep in spec.depends_on),
            ),
        )
        for spec in config.manifest.services
    )
    gateway = config.manifest.gateway
    edge = (
        ()
        if gateway is None
        else (
            Stack(
                EDGE,
                lambda: build_edge(config),
                (NETWORK, REGISTRY, MESH, *(service_stack(name) for name in gateway.upstreams)),
            ),
        )
    )
    operator = (
        (
            Stack(
                OPERATOR_STACK,
                lambda: build_operator(config),
                (REGISTRY, *(service_stack(spec.name) for spec in config.manifest.services)),
            ),
        )
        if config.operator
        else ()
    )
    return platform + services + edge + operator
