"""Times as both stores keep them: ISO-8601 text of an aware UTC datetime, which sorts
and reads well in a SQLite column and a DynamoDB attribute alike."""

from __future__ import annotations

from datetime import datetime


def encode_time(moment: datetime) -> str:
    """Stores an aware datetime as ISO-8601 text, which sorts and reads well."""
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
    return moment.isoformat()


def decode_time(text: str) -> datetime:
    """Reverses encode_time."""
    return datetime.fromisoformat(text)
