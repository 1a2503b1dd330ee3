"""The canonical content of a record: its JSON form, its hash, and the kind of each value.

Two records with the same name, type, data and description are the same record: ingestion stores
one of them per collection generation (unique `content_hash`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from json.encoder import encode_basestring as _encode_string
from typing import Any

ISO_DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
_ISO_DATE = re.compile(ISO_DATE_PATTERN)


def canonical_json(data: Mapping[str, Any] | None) -> str:
    """`data` as compact JSON with sorted keys: equal data gives equal text."""
    return json.dumps(data or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _json_string(value: str | None) -> str:
    return "null" if value is None else _encode_string(value)


def content_hash_of_json(name: str, record_type: str, data_json: str, description: str | None) -> str:
    """`content_hash` for data already in canonical JSON (the ingestion hot path)."""
    # the same text as canonical_json({"data":..., "description":..., "name":..., "record_type":...})
    text = (
        '{"data":'
        + data_json
        + ',"description":'
        + _json_string(description)
        + ',"name":'
        + _encode_string(name)
        + ',"record_type":'
        + _encode_string(record_type)
        + "}"
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def content_hash(
    name: str, record_type: str, data: Mapping[str, Any] | None, description: str | None = None
) -> str:
    """SHA-256 (hex) of the record's canonical JSON; key order and whitespace do not matter."""
    return content_hash_of_json(name, record_type, canonical_json(data), description)


def is_iso_date(text: str) -> bool:
    """True for ISO 8601 dates and date-times (`2026-03-05`, `2026-03-05T14:30:00Z`)."""
    return bool(_ISO_DATE.match(text))


_KIND_BY_TYPE = {
    bool: "boolean",
    int: "number",
    float: "number",
    type(None): "null",
    dict: "object",
    list: "array",
}


def value_kind(value: Any) -> str:
    """The kind a value has for filtering and sorting: number, boolean, date, string, object, array, null."""
    if type(value) is str:
        return "date" if value[:4].isdigit() and is_iso_date(value) else "string"
    kind = _KIND_BY_TYPE.get(type(value))
    if kind is not None:
        return kind
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "date" if is_iso_date(value) else "string"
    if isinstance(value, Mapping):
        return "object"
    return "array"
