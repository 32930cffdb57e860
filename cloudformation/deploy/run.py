"""Deploy every stack in order, or destroy them in reverse; the plan is a list of
``StackSpec`` so tests can deploy what moto models."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cloudformation.deploy.aws import Client, DeployError
from cloudformation.deploy.display import Reporter
from cloudformation.deploy.stack import (
    Outcome,
    StackSpec,
    Waiting,
    apply,
    delete,
    exists,
    status,
)
from cloudformation.names import stack_name

DEFAULT_WAITING = Waiting()
AfterStack = Callable[[StackSpec, Mapping[str, str]], None]


@dataclass(frozen=True)
class DeployResult:
    outcomes: dict[str, Outcome]
    outputs: dict[str, str]
    """Every stack's outputs merged (output keys are unique across the mesh)."""
    not_planned: tuple[str, ...] = ()
    """A dry run's stacks it could not plan: they import from stacks that do not exist."""


def spec_for(
    key: str,
    body: Mapping[str, Any],
    environment: str,
    values: Mapping[str, str],
    after: tuple[str, ...] = (),
) -> StackSpec:
    """The stack named ``<environment>-<key>`` with the values its template declares,
    deployed after the stacks ``after``; DeployError naming a parameter that has neither
    a value nor a default."""
    declared = body.get("Parameters", {})
    chosen = {name: values[name] for name in declared if name in values}
    missing = [name for name, p in declared.items() if name not in chosen and "Default" not in p]
    if missing:
        raise DeployError(f"stack {key} needs parameter(s) {', '.join(missing)}")
    return StackSpec(
        key, stack_name(environment, key), json.dumps(body, sort_keys=True), chosen, after
    )


def deploy(
    cfn: Client,
    stacks: Sequence[StackSpec],
    reporter: Reporter,
    *,
    dry_run: bool = False,
    waiting: Waiting = DEFAULT_WAITING,
    after_stack: AfterStack | None = None,
) -> DeployResult:
    """Applies each stack in order; stops at the first failure (DeployError).

    A dry run creates nothing, so on a fresh environment a stack that imports from one
    the run only planned cannot be planned (its change set would fail on the missing
    export): the dry run stops there and says so, listing what it did not plan.
    """
    outcomes: dict[str, Outcome] = {}
    outputs: dict[str, str] = {}
    absent: set[str] = set()
    with reporter.stacks("deploying", len(stacks)):
        for index, spec in enumerate(stacks):
            reporter.working_on(f"{spec.name}")
            waiting_for = [key for key in spec.after if key in absent]
            if dry_run and waiting_for:
                rest = tuple(s.name for s in stacks[index:])
                reporter.say(
                    f"dry run stops at {spec.name}: it imports from {', '.join(waiting_for)},"
                    " which do not exist yet, so its change set cannot be computed. Not planned:"
                    f" {', '.join(rest)}. `make synth` writes every template to read instead."
                )
                return DeployResult(outcomes, outputs, rest)
            if dry_run and not exists(cfn, spec.name):
                absent.add(spec.key)
            outcomes[spec.name] = apply(cfn, spec, reporter, dry_run=dry_run, waiting=waiting)
            reporter.say(f"{spec.name}: {outcomes[spec.name].value}")
            if not dry_run:
                outputs.update(stack_outputs(cfn, spec.name))
                if after_stack is not None:
                    after_stack(spec, outputs)
            reporter.stack_done()
    return DeployResult(outcomes, outputs)


def destroy(
    cfn: Client,
    ecr: Client,
    names: Sequence[str],
    reporter: Reporter,
    *,
    waiting: Waiting = DEFAULT_WAITING,
) -> list[str]:
    """Deletes the stacks in reverse order, emptying their ECR repositories first.
    Returns the names that were already gone."""
    gone: list[str] = []
    with reporter.stacks("destroying", len(names)):
        for name in reversed(names):
            reporter.working_on(name)
            if status(cfn, name) in (None, "DELETE_COMPLETE"):
                reporter.say(f"{name}: already gone")
                gone.append(name)
            else:
                for repository in _physical_ids(cfn, name, "AWS::ECR::Repository"):
                    reporter.say(f"{name}: emptied ECR repository {repository}"
                                 f" ({empty_repository(ecr, repository)} image(s))")  # fmt: skip
                delete(cfn, name, reporter, waiting)
                reporter.say(f"{name}: deleted")
            reporter.stack_done()
    return gone


def unprotect(
    cfn: Client, dynamodb: Client, name: str, reporter: Reporter, *, waiting: Waiting
) -> list[str]:
    """Turns deletion protection off on the DynamoDB tables of stack ``name`` (if it
    exists), so that deleting the stack next drops them and their data; their names.

    Straight through DynamoDB rather than by updating the stack's parameter: the stack
    is about to go, and a failed update would leave it half-protected."""
    if status(cfn, name) in (None, "DELETE_COMPLETE"):
        return []
    tables = _physical_ids(cfn, name, "AWS::DynamoDB::Table")
    for table in tables:
        dynamodb.update_table(TableName=table, DeletionProtectionEnabled=False)
        dynamodb.get_waiter("table_exists").wait(TableName=table, WaiterConfig=waiting.config())
        reporter.say(f"{name}: deletion protection off for table {table}")
    return tables


def stack_outputs(cfn: Client, name: str) -> dict[str, str]:
    described = cfn.describe_stacks(StackName=name)["Stacks"][0]
    return {str(o["OutputKey"]): str(o["OutputValue"]) for o in described.get("Outputs", [])}


def empty_repository(ecr: Client, repository: str) -> int:
    """Deletes every image of ``repository`` (CloudFormation cannot delete a non-empty
    one); returns how many there were."""
    count = 0
    for page in ecr.get_paginator("list_images").paginate(repositoryName=repository):
        ids = page.get("imageIds", [])
        for start in range(0, len(ids), 100):  # batch_delete_image takes at most 100
            ecr.batch_delete_image(repositoryName=repository, imageIds=ids[start : start + 100])
        count += len(ids)
    return count


def _physical_ids(cfn: Client, name: str, resource_type: str) -> list[str]:
    resources = cfn.describe_stack_resources(StackName=name)["StackResources"]
    return [
        str(r["PhysicalResourceId"])
        for r in resources
        if r["ResourceType"] == resource_type and r.get("PhysicalResourceId")
    ]
