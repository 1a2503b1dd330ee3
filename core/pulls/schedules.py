"""Cron schedules of connectors: the five-field expressions Dagster's cron accepts, checked without Dagster.

The API validates a connector's `schedule` here (importing Dagster would cost the API seconds);
the Dagster sensor computes when each schedule is due with Dagster's own cron iterator.
"""

from __future__ import annotations

import re

from core.errors import ValidationFailed

MACROS = frozenset({"@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly", "@annually"})
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
# (name, lowest, highest, names for the values from `lowest` on)
FIELDS: tuple[tuple[str, int, int, tuple[str, ...]], ...] = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, MONTHS),
    ("day of week", 0, 7, DAYS),
)
_ITEM = re.compile(r"^(?P<range>\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:/(?P<step>\d+))?$")


def _value(text: str, low: int, high: int, names: tuple[str, ...]) -> int | None:
    if text.isdigit():
        value = int(text)
    elif text.upper() in names:
        value = names.index(text.upper()) + low
    else:
        return None
    return value if low <= value <= high else None


def _field_ok(text: str, low: int, high: int, names: tuple[str, ...]) -> bool:
    for item in text.split(","):
        match = _ITEM.match(item)
        if match is None:
            return False
        step = match.group("step")
        if step is not None and int(step) < 1:
            return False
        span = match.group("range")
        if span == "*":
            continue
        bounds = [_value(part, low, high, names) for part in span.split("-")]
        if any(b is None for b in bounds) or (len(bounds) == 2 and bounds[0] > bounds[1]):
            return False
    return True


def validate_cron(expression: str | None) -> str | None:
    """The normalised schedule (single spaces), None for no schedule; ValidationFailed if it is not a
    five-field cron expression (numbers, names, `*`, ranges, steps, lists) or an `@daily`-style macro."""
    if expression is None:
        return None
    if not isinstance(expression, str):
        raise ValidationFailed("schedule must be a cron expression string, e.g. '0 * * * *'")
    text = " ".join(expression.split())
    if not text:
        return None
    if text.lower() in MACROS:
        return text.lower()
    parts = text.split(" ")
    if len(parts) != len(FIELDS):
        raise ValidationFailed(
            f"schedule '{text}' must have 5 fields (minute hour day-of-month month day-of-week), has {len(parts)}"
        )
    for part, (name, low, high, names) in zip(parts, FIELDS, strict=True):
        if not _field_ok(part, low, high, names):
            raise ValidationFailed(f"schedule '{text}': invalid {name} field '{part}' (allowed {low}-{high})")
    return text
