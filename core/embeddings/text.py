"""The one place that decides what text of a record is embedded (ingestion and reindexing share it)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

#: a hard cap on the built text; the model truncates far earlier, this only bounds the work
MAX_EMBEDDING_TEXT_CHARS = 16_384
#: a field value longer than this is cut (one huge field must not crowd out the others)
MAX_FIELD_CHARS = 1_000


def build_embedding_text(
    name: str | None,
    record_type: str | None,
    description: str | None,
    collection_data: Mapping[str, Any] | None,
) -> str:
    """The text embedded for a record: name, type, description, then `field: value` lines.

    The result depends only on the values, never on dict order (JSONB reorders keys), so the same
    record always yields the same text and the same vector. Most telling parts come first, because
    the model keeps only the first 256 word pieces. Never empty for a record with a name or type.
    """
    parts: list[str] = []
    name_text = _clean(name)
    if name_text:
        parts.append(name_text)
    type_text = _clean(record_type)
    if type_text:
        parts.append(f"Type: {_humanise(type_text)}")
    description_text = _clean(description)
    if description_text and description_text != name_text:
        parts.append(description_text)
    seen = {name_text.casefold(), description_text.casefold()}
    for key, value in _flatten(collection_data or {}):
        text = _value_text(value)
        if not text or text.casefold() in seen:
            continue
        parts.append(f"{_humanise(key)}: {text[:MAX_FIELD_CHARS]}")
    return "\n".join(parts)[:MAX_EMBEDDING_TEXT_CHARS]


def _clean(value: Any) -> str:
    if value is None:
        return ""
    return " ".join(str(value).split())


def _humanise(key: str) -> str:
    return " ".join(key.replace("_", " ").replace("-", " ").split())


def _flatten(data: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """(dotted key, leaf value) pairs, keys sorted at every level."""
    pairs: list[tuple[str, Any]] = []
    for key in sorted(data, key=str):
        value = data[key]
        full = f"{prefix}{key}"
        if isinstance(value, Mapping):
            pairs.extend(_flatten(value, f"{full}."))
        else:
            pairs.append((full, value))
    return pairs


def _value_text(value: Any) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | tuple):
        items = [_value_text(v) for v in value]
        return ", ".join(i for i in items if i)
    if isinstance(value, str):
        return _clean(value)
    if isinstance(value, int | float):
        return str(value)
    return _clean(json.dumps(value, sort_keys=True, default=str))
