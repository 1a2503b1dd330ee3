"""Size and shape limits every record obeys, whatever format or path it came by.

One set of caps (`max_field_bytes`, `max_record_bytes`, `max_record_fields`, `max_nesting_depth` in the
settings) applies to CSV, JSON, NDJSON, XML and PDF files, API record batches and connector pulls, so a
value refused in one format is refused in every other with the same reason. The record cap keeps the
record's full-text vector under PostgreSQL's 1 MB tsvector limit; a record past a cap is rejected with
its line and the rest of the file ingests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.settings import Settings


@dataclass(frozen=True, slots=True)
class RecordLimits:
    """The caps one ingestion applies (read once from the settings)."""

    max_field_bytes: int
    max_record_bytes: int
    max_record_fields: int
    max_nesting_depth: int

    @classmethod
    def from_settings(cls, settings: Settings) -> RecordLimits:
        return cls(settings.max_field_bytes, settings.max_record_bytes, settings.max_record_fields,
                   settings.max_nesting_depth)


def nesting_depth_over(value: Any, limit: int) -> bool:
    """True when objects/arrays inside `value` nest deeper than `limit` (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, Mapping):
            children = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        if depth + 1 > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def oversized_field(fields: Mapping[str, Any], limit: int) -> tuple[str, int] | None:
    """(field name, size in bytes) of the first top-level text value over `limit` bytes, else None."""
    for name, value in fields.items():
        if isinstance(value, str) and len(value) > limit // 4:  # cheap pre-check: ≤ 4 bytes a character
            size = len(value.encode("utf-8", "surrogatepass"))
            if size > limit:
                return name, size
    return None


def shape_problem(fields: Mapping[str, Any], limits: RecordLimits) -> tuple[str | None, str] | None:
    """(field, reason) when a record's fields break a cap, checked before the record is encoded."""
    if len(fields) > limits.max_record_fields:
        return None, f"record has {len(fields)} fields; the limit is {limits.max_record_fields}"
    big = oversized_field(fields, limits.max_field_bytes)
    if big is not None:
        return big[0], f"value is {big[1]} bytes; the limit for one value is {limits.max_field_bytes} bytes"
    if nesting_depth_over(fields, limits.max_nesting_depth):
        return None, f"values nest deeper than {limits.max_nesting_depth} levels"
    return None


def record_size_problem(parts: tuple[str, ...], limits: RecordLimits) -> str | None:
    """The reason a record whose encoded texts are `parts` is refused (over the record cap), else None."""
    chars = sum(len(p) for p in parts)
    if chars * 4 <= limits.max_record_bytes:  # cannot be over: UTF-8 takes at most 4 bytes a character
        return None
    size = sum(len(p.encode("utf-8", "surrogatepass")) for p in parts)
    if size > limits.max_record_bytes:
        return f"record is {size} bytes; the limit is {limits.max_record_bytes} bytes (KARIZ_MAX_RECORD_BYTES)"
    return None
