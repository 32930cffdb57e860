"""How the reports write numbers: counts, rates, milliseconds, per-operation figures, bytes."""

from __future__ import annotations


def count(value: float) -> str:
    return f"{value:,.0f}"


def rate(value: float) -> str:
    """Per second; a decimal only where it is not noise."""
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def ms(value: float) -> str:
    """Milliseconds to about three significant figures, HdrHistogram's own precision."""
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def per_op(value: float) -> str:
    """Averages per operation: two decimals show 3N+1 = 31 apart from 30.97."""
    return f"{value:.2f}" if value < 100 else f"{value:,.1f}"


def byte_size(value: float) -> str:
    """Decimal units (kB = 1000 B), like the kernel counters they come from."""
    if value < 1_000:
        return f"{value:.0f} B"
    if value < 1_000_000:
        return f"{value / 1_000:.1f} kB"
    return f"{value / 1_000_000:.2f} MB"


def ratio(value: float) -> str:
    return f"{value:.2f}x"
