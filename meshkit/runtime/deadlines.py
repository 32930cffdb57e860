"""The deadline of the RPC being served, carried to every outbound call.

The server interceptor records an absolute deadline (the caller's, or a default) in a
context variable; the client interceptor gives each outbound call the time remaining
minus a margin. Context variables follow asyncio tasks, so work spawned inside a handler
inherits the handler's deadline.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import time
from dataclasses import dataclass

from meshkit.errors import DeadlineExceeded


@dataclass(frozen=True, slots=True)
class CallScope:
    """What an inbound call hands down to the calls it makes."""

    deadline: float = math.inf
    """time.monotonic() value; infinite for a long-lived stream with no caller deadline."""
    request_id: str = ""
    operation_id: str = ""


_current: contextvars.ContextVar[CallScope | None] = contextvars.ContextVar(
    "shopmesh_call_scope", default=None
)


def current_scope() -> CallScope | None:
    return _current.get()


def bind_scope(scope: CallScope) -> contextvars.Token[CallScope | None]:
    """Makes ``scope`` current; undo with ``unbind_scope``. (Plain functions rather than
    a context manager: this runs on every call, and the generator costs ~1 µs.)"""
    return _current.set(scope)


def unbind_scope(token: contextvars.Token[CallScope | None]) -> None:
    """Restores the scope before ``bind_scope``.

    A stream handler abandoned mid-stream is finalised later by the event loop, in
    another context, where the token means nothing; the call's own context ended with
    its task, so there is nothing left to restore.
    """
    with contextlib.suppress(ValueError):
        _current.reset(token)


def outbound_timeout(default_s: float, margin_s: float, requested_s: float | None = None) -> float:
    """Seconds an outbound call may take.

    Inside a handler: the handler's remaining time minus ``margin_s`` (never more than an
    explicitly ``requested_s``). Outside one (start-up, background sagas): ``requested_s``
    or ``default_s``. Raises DeadlineExceeded when no time is left, so no work starts
    that could not finish in time.
    """
    scope = _current.get()
    budget = requested_s if requested_s is not None else default_s
    if scope is None or scope.deadline == math.inf:
        return budget
    remaining = scope.deadline - time.monotonic() - margin_s
    if requested_s is not None:
        remaining = min(remaining, requested_s)
    if remaining <= 0:
        raise DeadlineExceeded(
            message="deadline exceeded before the downstream call could start",
            reason="DEADLINE_EXHAUSTED",
        )
    return remaining
