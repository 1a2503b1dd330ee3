"""What readers yield: a parsed row with its line, or a row error that rejects that row only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class ParsedRow:
    """One source row: `line` is the 1-based line (CSV, JSON, NDJSON) or record/page number (XML, PDF)."""

    line: int
    fields: dict[str, Any]


@dataclass(slots=True, frozen=True)
class RowError:
    """A rejected row: its line (or record number), the field at fault if one is, and why."""

    line: int | None
    field: str | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "reason": self.reason}
