"""Which field becomes a record's `name`: the one given, else a conventional name, else the first text field."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from core.errors import InvalidInput

NAME_CANDIDATES = (
    "name",
    "title",
    "product_name",
    "productname",
    "product",
    "item_name",
    "display_name",
    "label",
    "full_name",
    "package",
    "subject",
    "heading",
    "entity_name",
    "record_name",
)
_SEPARATORS = re.compile(r"[\s\-.]+")


def _key(column: str) -> str:
    return _SEPARATORS.sub("_", column.strip().lower())


def choose_name_column(
    columns: Sequence[str], sample: Mapping[str, Any] | None, name_column: str | None = None
) -> str | None:
    """The column to read names from.

    A given `name_column` must be one of `columns` (InvalidInput otherwise, listing them). Without one:
    the first column named like name/title/product_name/label..., else the first column whose sample
    value is text, else None (every row is then rejected for lacking a name)."""
    if name_column:
        if name_column in columns:
            return name_column
        by_key = {_key(c): c for c in columns}
        if _key(name_column) in by_key:
            return by_key[_key(name_column)]
        raise InvalidInput(
            f"name_column '{name_column}' is not a column of the file; columns: {', '.join(columns[:50])}"
        )
    by_key = {}
    for column in columns:
        by_key.setdefault(_key(column), column)
    for candidate in NAME_CANDIDATES:
        if candidate in by_key:
            return by_key[candidate]
    for column in columns:
        if sample is not None and isinstance(sample.get(column), str):
            return column
    return columns[0] if columns and sample is None else None
