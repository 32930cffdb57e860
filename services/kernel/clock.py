"""The wall clock, injected so tests can pin time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
"""Returns the current time as an aware UTC datetime."""


def utc_now() -> datetime:
    """The current time in UTC (the default Clock)."""
    return datetime.now(UTC)
