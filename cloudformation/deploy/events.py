"""Stack events as they arrive, and the failed resources (with reasons) among them."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from botocore.exceptions import ClientError

from cloudformation.deploy.aws import Client

POLL_S = 3.0
"""How often events are fetched while a waiter runs: well under CloudFormation's limits."""


@dataclass(frozen=True)
class StackEvent:
    """One row of describe_stack_events."""

    event_id: str
    timestamp: datetime
    logical_id: str
    resource_type: str
    status: str
    reason: str

    @property
    def failed(self) -> bool:
        return self.status.endswith("_FAILED")

    def line(self) -> str:
        reason = f"  {self.reason}" if self.reason else ""
        when = f"{self.timestamp:%H:%M:%S}"
        return f"{when} {self.status:<28} {self.logical_id} ({self.resource_type}){reason}"


class EventTail:
    """The events of one stack since it was created: ``new()`` returns only unseen ones,
    oldest first."""

    def __init__(self, cfn: Client, stack: str) -> None:
        self._cfn = cfn
        self._stack = stack
        self._seen: set[str] = set()
        self.all: list[StackEvent] = []

    def new(self) -> list[StackEvent]:
        fresh: list[StackEvent] = []
        try:
            pages = self._cfn.get_paginator("describe_stack_events").paginate(StackName=self._stack)
            for page in pages:
                batch = [_event(raw) for raw in page["StackEvents"]]
                unseen = [event for event in batch if event.event_id not in self._seen]
                fresh.extend(unseen)
                if len(unseen) < len(batch):
                    break  # newest first: the rest were seen on an earlier poll
        except ClientError:
            return []  # the stack is gone (deleted) or not yet visible
        fresh.reverse()
        self._seen.update(event.event_id for event in fresh)
        self.all.extend(fresh)
        return fresh

    def failures(self) -> list[StackEvent]:
        """Failed resources with their reasons, the root cause first. CloudFormation marks
        the resources it merely cancelled ("Resource creation cancelled"); those go last."""
        failed = [event for event in self.all if event.failed and event.logical_id != self._stack]
        return sorted(failed, key=lambda event: "cancelled" in event.reason.lower())


@contextmanager
def tailing(tail: EventTail, show: Callable[[StackEvent], None]) -> Iterator[None]:
    """Shows new events from a background thread while the body (a waiter) blocks."""
    done = threading.Event()

    def poll() -> None:
        while not done.wait(POLL_S):
            for event in tail.new():
                show(event)

    thread = threading.Thread(target=poll, name="stack-events", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
        for event in tail.new():
            show(event)


def _event(raw: dict[str, object]) -> StackEvent:
    return StackEvent(
        event_id=str(raw["EventId"]),
        timestamp=raw["Timestamp"],  # type: ignore[arg-type]
        logical_id=str(raw.get("LogicalResourceId", "")),
        resource_type=str(raw.get("ResourceType", "")),
        status=str(raw.get("ResourceStatus", "")),
        reason=str(raw.get("ResourceStatusReason") or ""),
    )
