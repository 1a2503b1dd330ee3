"""How API views write timestamps: ISO 8601 as Python prints it, or null."""

from __future__ import annotations

from datetime import datetime


def iso(value: datetime | None) -> str | None:
    """`value.isoformat()`, or None for no time."""
    return value.isoformat() if value else None
