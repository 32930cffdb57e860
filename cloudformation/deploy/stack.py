"""One stack through a change set: create or update, "no changes" as success, execute
with live events, and a clean rollback that names the failed resource and why."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from botocore.exceptions import ClientError, WaiterError

from cloudformation.deploy.aws import Client, DeployError
from cloudformation.deploy.display import Change, Reporter
from cloudformation.deploy.events import EventTail, tailing

CAPABILITIES = ("CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND")
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
"""How CloudFormation says a change set is empty (its status is then FAILED)."""
GONE_BEFORE_UPDATE = ("REVIEW_IN_PROGRESS", "ROLLBACK_COMPLETE")
"""States an update cannot start from: a change set never executed, a failed create."""


@dataclass(frozen=True)
class StackSpec:
    """A stack to deploy: its name, template body and parameter values."""

    key: str
    name: str
    body: str
    parameters: Mapping[str, str]
    after: tuple[str, ...] = ()
    """Keys of the stacks whose exports this one imports (they must exist first)."""


@dataclass(frozen=True)
class Waiting:
    """Waiter pacing: real CloudFormation needs seconds, moto answers at once."""

    delay_s: int = 5
    max_attempts: int = 720

    def config(self) -> dict[str, int]:
        return {"Delay": self.delay_s, "MaxAttempts": self.max_attempts}


class Outcome(Enum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "no changes"
    PLANNED = "planned (dry run)"


def exists(cfn: Client, name: str) -> bool:
    """Whether stack ``name`` exists with resources (and so its exports) in place."""
    return status(cfn, name) not in (None, "DELETE_COMPLETE", *GONE_BEFORE_UPDATE)


def status(cfn: Client, name: str) -> str | None:
    """The stack's status, or None when there is no such stack."""
    try:
        return str(cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"])
    except ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise


def apply(
    cfn: Client, spec: StackSpec, reporter: Reporter, *, dry_run: bool, waiting: Waiting
) -> Outcome:
    """Creates or updates ``spec`` through a change set; DeployError when it fails."""
    current = status(cfn, spec.name)
    if current == "ROLLBACK_COMPLETE":
        reporter.say(f"{spec.name}: left by a failed create; deleting it first")
        delete(cfn, spec.name, reporter, waiting)
        current = None
    kind = "UPDATE" if current and current not in GONE_BEFORE_UPDATE else "CREATE"
    change_set = _create_change_set(cfn, spec, kind, waiting)
    if change_set is None:
        reporter.say(f"{spec.name}: no changes")
        return Outcome.UNCHANGED
    reporter.changes(spec.name, _changes(cfn, change_set))
    if dry_run:
        _discard(cfn, spec.name, change_set, kind)
        return Outcome.PLANNED
    _execute(cfn, spec.name, change_set, kind, reporter, waiting)
    return Outcome.CREATED if kind == "CREATE" else Outcome.UPDATED


def delete(cfn: Client, name: str, reporter: Reporter, waiting: Waiting) -> None:
    """Deletes stack ``name`` and waits, showing its events."""
    tail = EventTail(cfn, name)
    tail.new()  # only events from now on
    cfn.delete_stack(StackName=name)
    with tailing(tail, lambda event: reporter.event(name, event)):
        try:
            cfn.get_waiter("stack_delete_complete").wait(
                StackName=name, WaiterConfig=waiting.config()
            )
        except WaiterError as exc:
            raise DeployError(_failed(name, "delete", tail, exc)) from None


def _create_change_set(cfn: Client, spec: StackSpec, kind: str, waiting: Waiting) -> str | None:
    """The id of a ready change set, or None when it holds no changes (then deleted)."""
    try:
        created = cfn.create_change_set(
            StackName=spec.name,
            ChangeSetName=f"deploy-{time.time_ns()}",
            ChangeSetType=kind,
            TemplateBody=spec.body,
            Parameters=[
                {"ParameterKey": k, "ParameterValue": v} for k, v in spec.parameters.items()
            ],
            Capabilities=list(CAPABILITIES),
        )
    except ClientError as exc:
        if any(marker in _message(exc) for marker in NO_CHANGES):
            return None  # said at once by some endpoints (moto), with no change set made
        raise DeployError(f"{spec.name}: change set rejected: {_message(exc)}") from None
    change_set = str(created["Id"])
    try:
        cfn.get_waiter("change_set_create_complete").wait(
            ChangeSetName=change_set, WaiterConfig=waiting.config()
        )
    except WaiterError:
        described = cfn.describe_change_set(ChangeSetName=change_set)
        reason = str(described.get("StatusReason", ""))
        if any(marker in reason for marker in NO_CHANGES):
            cfn.delete_change_set(ChangeSetName=change_set)
            return None
        raise DeployError(f"{spec.name}: change set failed: {reason}") from None
    return change_set


def _changes(cfn: Client, change_set: str) -> list[Change]:
    pages = cfn.get_paginator("describe_change_set").paginate(ChangeSetName=change_set)
    return [
        Change(
            action=str(item["ResourceChange"].get("Action", "")),
            logical_id=str(item["ResourceChange"].get("LogicalResourceId", "")),
            resource_type=str(item["ResourceChange"].get("ResourceType", "")),
            replacement=str(item["ResourceChange"].get("Replacement", "")),
        )
        for page in pages
        for item in page.get("Changes", [])
    ]


def _discard(cfn: Client, name: str, change_set: str, kind: str) -> None:
    """Drops a dry run's change set, and the empty stack a CREATE change set made."""
    cfn.delete_change_set(ChangeSetName=change_set)
    if kind == "CREATE":
        cfn.delete_stack(StackName=name)


def _execute(
    cfn: Client, name: str, change_set: str, kind: str, reporter: Reporter, waiting: Waiting
) -> None:
    tail = EventTail(cfn, name)
    tail.new()
    waiter = "stack_create_complete" if kind == "CREATE" else "stack_update_complete"
    with tailing(tail, lambda event: reporter.event(name, event)):
        try:
            cfn.execute_change_set(ChangeSetName=change_set)
            cfn.get_waiter(waiter).wait(StackName=name, WaiterConfig=waiting.config())
        except (ClientError, WaiterError) as exc:
            problem = _failed(name, kind.lower(), tail, exc)
        else:
            return
    reporter.failure(problem)
    if kind == "CREATE":
        # A failed create leaves a stack that can only be deleted; do it now so the
        # next deploy starts clean. A failed update rolls back by itself.
        reporter.say(f"{name}: deleting the failed stack")
        delete(cfn, name, reporter, waiting)
    raise DeployError(problem)


def _failed(name: str, action: str, tail: EventTail, exc: Exception) -> str:
    tail.new()
    causes = [
        f"{event.logical_id} ({event.resource_type}): {event.reason}" for event in tail.failures()
    ]
    why = "; ".join(causes) if causes else _message(exc)
    return f"{name}: {action} failed: {why}"


def _message(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Message", exc))
    if isinstance(exc, WaiterError):
        return str(exc.last_response.get("Stacks", [{}])[0].get("StackStatusReason", exc))
    return str(exc)
