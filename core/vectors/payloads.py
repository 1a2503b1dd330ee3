"""The payload stored beside each record's vector: what vector-side filters can see.

Top-level keys: `tenant_id`, `collection`, `generation`, `record_type`, `status`, and `data`, the
record's filterable `collection_data` fields (scalars and lists of scalars; long text left out).
A filter on collection field `price` is therefore a condition on `data.price`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

DATA_KEY = "data"
#: strings longer than this are prose, not filter values, and stay out of the payload
MAX_FILTERABLE_CHARS = 256


def data_field(name: str) -> str:
    """The payload path of a `collection_data` field, for use in a filter condition."""
    return f"{DATA_KEY}.{name}"


def build_point_payload(
    *,
    tenant_id: uuid.UUID | str,
    collection: str,
    generation: int,
    record_type: str | None,
    status: str | None,
    collection_data: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The payload for one record's point; JSON-serialisable, keys as documented above."""
    return {
        "tenant_id": str(tenant_id),
        "collection": collection,
        "generation": int(generation),
        "record_type": record_type,
        "status": status,
        DATA_KEY: filterable_fields(collection_data or {}),
    }


def filterable_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of `data` a filter can use: scalars, short strings, lists of those, nested maps."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            nested = filterable_fields(value)
            if nested:
                out[str(key)] = nested
        elif isinstance(value, list | tuple):
            items = [v for v in value if _filterable_scalar(v)]
            if items:
                out[str(key)] = items
        elif _filterable_scalar(value):
            out[str(key)] = value
    return out


def _filterable_scalar(value: Any) -> bool:
    if isinstance(value, str):
        return len(value) <= MAX_FILTERABLE_CHARS
    if isinstance(value, float):
        return value == value and value not in (float("inf"), float("-inf"))
    return isinstance(value, bool | int)
