"""The stacks of a mesh, in the order they deploy (reverse it to destroy).

network → registry → storage (DynamoDB tables, only with ``storage="dynamodb"``) →
mesh → one stack per service, dependencies first (the manifest already lists services
so) → edge (the gateway, when the manifest has one) → operator (unless turned off).
Each later stack imports exports of earlier ones, so CloudFormation enforces this order
too.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from troposphere import Template

from cloudformation.config import CfnConfigError, StackConfig, validate
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


def check_imports(stacks: Sequence[Stack], bodies: Mapping[str, Mapping[str, Any]]) -> None:
    """Refuses, naming the stack and the export, a plan in which a stack imports what none
    of the stacks it deploys after exports: CloudFormation would fail it half-way through
    a deployment, after the stacks before it had changed."""
    exported_by = {
        json_key(output["Export"]["Name"]): stack.key
        for stack in stacks
        for output in bodies[stack.key].get("Outputs", {}).values()
        if "Export" in output
    }
    for stack in stacks:
        for name in _imports(bodies[stack.key]):
            producer = exported_by.get(json_key(name))
            if producer is None or producer not in _before(stack, stacks):
                where = (
                    "no stack exports it"
                    if producer is None
                    else f"it does not deploy after {producer}, which exports it"
                )
                raise CfnConfigError(f"stack {stack.key} imports {name!r}, but {where}")


def json_key(value: Any) -> str:
    """A template value (a string or an intrinsic function) as a comparable key."""
    return json.dumps(value, sort_keys=True)


def _before(stack: Stack, stacks: Sequence[Stack]) -> set[str]:
    """The keys ``stack`` deploys after, directly or through those it deploys after."""
    by_key = {s.key: s for s in stacks}
    seen: set[str] = set()
    pending = list(stack.after)
    while pending:
        key = pending.pop()
        if key not in seen and key in by_key:
            seen.add(key)
            pending.extend(by_key[key].after)
    return seen


def _imports(node: Any) -> Iterator[Any]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Fn::ImportValue":
                yield value
            else:
                yield from _imports(value)
    elif isinstance(node, list):
        for item in node:
            yield from _imports(item)
