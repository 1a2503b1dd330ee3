"""What a connector registration must hold, checked before anything is stored or connected.

The body of `POST /connectors` is parsed here: known fields only, the right types, a known
`connector_type` whose `connection_config` has every required key, a read-only query, a positive
`batch_size`, an optional cron `schedule`, and the record identity: `key_column` (one column, or a
list / comma-separated columns for a composite key), `deleted_column` (soft deletes) and `mode`
(`append`, or `mirror`: a full pull archives the records it no longer returns). No driver is imported and no connection opened.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connectors.base import DEFAULT_BATCH_SIZE
from connectors.registry import validate_connector
from core.errors import InvalidInput, ValidationFailed
from core.ingestion.keys import parse_key_fields, parse_mode
from core.ingestion.validation import COLLECTION_NAME
from core.pulls.schedules import validate_cron
from core.security.targets import connector_policy

MAX_BATCH_SIZE = 100_000
REQUIRED = ("name", "connector_type", "vertical", "entity_type", "connection_config", "query")
OPTIONAL = ("name_column", "batch_size", "schedule", "key_column", "deleted_column", "mode")
LIMITS = {"name": 200, "vertical": 100, "entity_type": 100, "name_column": 200, "deleted_column": 200}


@dataclass(frozen=True, slots=True)
class ConnectorSpec:
    """A validated registration; `connection_config` is plaintext here and encrypted before storing."""

    name: str
    connector_type: str
    collection_name: str  # the body's `vertical`
    entity_type: str
    connection_config: dict[str, Any]
    query: str
    name_column: str | None = None
    batch_size: int = DEFAULT_BATCH_SIZE
    schedule: str | None = None
    key_column: str | None = None  # comma-separated for a composite key
    deleted_column: str | None = None
    mode: str = "append"


def _text(body: Mapping[str, Any], key: str, *, required: bool) -> str | None:
    value = body.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationFailed(f"{key} is required", extra={"field": key})
        return None
    if not isinstance(value, str):
        raise ValidationFailed(f"{key} must be a string", extra={"field": key})
    value = value.strip()
    limit = LIMITS.get(key)
    if limit is not None and len(value) > limit:
        raise ValidationFailed(f"{key} is longer than {limit} characters", extra={"field": key})
    return value


def parse_connector_spec(body: Any) -> ConnectorSpec:
    """The registration in `body`, validated; InvalidInput for unknown fields or a body that is not an
    object, ValidationFailed (or a connector config/query error, also 422) for bad values."""
    if not isinstance(body, Mapping):
        raise InvalidInput("the request body must be a JSON object")
    unknown = sorted(set(body) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise InvalidInput(
            f"unknown field(s): {', '.join(unknown)}; allowed: {', '.join(REQUIRED + OPTIONAL)}",
            extra={"fields": unknown},
        )
    name = _text(body, "name", required=True)
    kind = _text(body, "connector_type", required=True)
    collection_name = _text(body, "vertical", required=True)
    entity_type = _text(body, "entity_type", required=True)
    name_column = _text(body, "name_column", required=False)
    if not COLLECTION_NAME.match(collection_name or ""):
        raise ValidationFailed(
            "vertical must be 1-100 letters, digits, '_', '-' or '.', starting with a letter or digit",
            extra={"field": "vertical"},
        )
    config = body.get("connection_config")
    if not isinstance(config, Mapping) or not config:
        raise ValidationFailed(
            "connection_config must be a non-empty object", extra={"field": "connection_config"}
        )
    query = body.get("query")
    if not isinstance(query, str) or not query.strip():
        raise ValidationFailed("query is required", extra={"field": "query"})
    batch_size = body.get("batch_size", DEFAULT_BATCH_SIZE)
    if batch_size is None:
        batch_size = DEFAULT_BATCH_SIZE
    if (
        not isinstance(batch_size, int)
        or isinstance(batch_size, bool)
        or not 1 <= batch_size <= MAX_BATCH_SIZE
    ):
        raise ValidationFailed(
            f"batch_size must be an integer from 1 to {MAX_BATCH_SIZE}", extra={"field": "batch_size"}
        )
    schedule = validate_cron(body.get("schedule"))
    key_fields = parse_key_fields(body.get("key_column"))
    key_column = ",".join(key_fields) if key_fields else None
    if key_column is not None and len(key_column) > 200:
        raise ValidationFailed("key_column is longer than 200 characters", extra={"field": "key_column"})
    deleted_column = _text(body, "deleted_column", required=False)
    mode = parse_mode(body.get("mode"))
    if key_column is None and (deleted_column or mode == "mirror"):
        raise ValidationFailed(
            "deleted_column and mode=mirror need a key_column", extra={"field": "key_column"}
        )
    validate_connector(kind or "", dict(config), query, policy=connector_policy())
    return ConnectorSpec(
        name=name or "",
        connector_type=kind or "",
        collection_name=collection_name or "",
        entity_type=entity_type or "",
        connection_config=dict(config),
        query=query,
        name_column=name_column,
        batch_size=batch_size,
        schedule=schedule,
        key_column=key_column,
        deleted_column=deleted_column,
        mode=mode,
    )
