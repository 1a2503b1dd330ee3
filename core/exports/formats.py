"""The export formats Kariz writes, with their media types and file extensions."""

from __future__ import annotations

import enum

from core.db.models import RECORD_STATUSES
from core.errors import InvalidInput


class ExportFormat(enum.StrEnum):
    CSV = "csv"
    JSON = "json"

    @property
    def content_type(self) -> str:
        return "text/csv; charset=utf-8" if self is ExportFormat.CSV else "application/json"

    @property
    def extension(self) -> str:
        return self.value


def parse_format(value: str | ExportFormat) -> ExportFormat:
    """The export format named by `value` (case-insensitive); InvalidInput for anything else."""
    try:
        return ExportFormat(str(value).lower())
    except ValueError:
        raise InvalidInput(f"format must be csv or json, not {value!r}") from None


def parse_record_status(value: str) -> str:
    """The record status to export (active, archived or draft); InvalidInput for anything else."""
    status = str(value).lower()
    if status not in RECORD_STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(RECORD_STATUSES)}, not {value!r}")
    return status
