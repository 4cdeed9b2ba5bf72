"""The one clock of the core: every time written to the database is UTC."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["aware", "now"]


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def aware(value: datetime | None) -> datetime | None:
    """A time read back from the database, timezone-aware: SQLite hands back naive datetimes, and
    every time the core writes is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
