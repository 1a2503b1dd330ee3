"""Record keys: the field(s) that identify a record in its source, and what a collection remembers.

A collection without a key deduplicates by content hash (the same content lands once per
generation). With a key (`key_column="part_number"`, or several fields for a composite key), a row
whose key already exists in the generation updates that record in place, and a full upload or pull
in `mirror` mode archives the records whose keys it did not contain. The key is remembered by the
collection the first time one is given; a later ingestion naming another key is a Conflict (409),
and one naming none uses the remembered key. Keyed ingestions of one collection take turns (a lock
on the collection row until the caller commits), so the last writer of a key always wins.

A key value is canonical text: a string as it is, any other scalar as its JSON text (`42`, `4.5`,
`true`), a composite key as the JSON array of those texts. `key_sql` computes the same text from a
stored record, so keys can be derived for records written before the collection had a key.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from core.errors import Conflict, ValidationFailed
from core.records.bulk import Executor

MAX_KEY_FIELDS = 8
MAX_KEY_LENGTH = 1000
MODES = ("append", "mirror")
# soft-delete values that mean "not deleted"; anything else (true, 1, "yes", a deleted_at timestamp) deletes
_NOT_DELETED = frozenset({"", "0", "false", "f", "no", "n", "null", "none"})


class KeyMissing(ValueError):
    """A row without a value for one of the key fields (the row is rejected with its line)."""


def parse_key_fields(value: Any, *, field: str = "key_column") -> tuple[str, ...] | None:
    """The key fields named by `value`: a field name, comma-separated names, or a list of names.

    None (or an empty string) means no key. ValidationFailed (422) for anything else."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        names = [part.strip() for part in value.split(",")]
    elif isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        names = [v.strip() for v in value]
    else:
        raise ValidationFailed(
            f"{field} must be a field name or a list of field names", extra={"field": field}
        )
    if not names or any(not n or len(n) > 200 for n in names):
        raise ValidationFailed(f"{field} names an empty or over-long field", extra={"field": field})
    if len(names) > MAX_KEY_FIELDS or len(set(names)) != len(names):
        raise ValidationFailed(
            f"{field} must name 1-{MAX_KEY_FIELDS} distinct fields", extra={"field": field}
        )
    return tuple(names)


def parse_mode(value: Any) -> str:
    """`append` (default) or `mirror`; ValidationFailed for anything else."""
    if value is None or value == "":
        return "append"
    if value not in MODES:
        raise ValidationFailed(f"mode must be one of {', '.join(MODES)}", extra={"field": "mode"})
    return str(value)


def _scalar_text(value: Any, field: str, line: int | None) -> str:
    if isinstance(value, str):
        text = value.strip()
        if text:
            return text
        raise KeyMissing(f"key field '{field}' is missing or empty")
    if value is None:
        raise KeyMissing(f"key field '{field}' is missing or empty")
    if isinstance(value, Mapping | list | tuple):
        where = f"line {line}: " if line is not None else ""
        raise ValidationFailed(
            f"{where}key field '{field}' holds a {type(value).__name__}; a key must be a scalar "
            "(text, number or boolean)",
            extra={"field": field, "line": line},
        )
    return json.dumps(value)


def key_of(fields: Sequence[str], lookup: Mapping[str, Any], line: int | None = None) -> str:
    """The canonical key text of one row (KeyMissing when a key field has no value; ValidationFailed
    when one holds an object or a list)."""
    if len(fields) == 1:
        text = _scalar_text(lookup.get(fields[0]), fields[0], line)
    else:
        text = json.dumps([_scalar_text(lookup.get(f), f, line) for f in fields], ensure_ascii=False)
    if len(text) > MAX_KEY_LENGTH:
        raise KeyMissing(f"key longer than {MAX_KEY_LENGTH} characters")
    return text


def is_deleted(value: Any) -> bool:
    """True when a soft-delete column's value says the row is deleted."""
    if value is None or value is False or value == 0:
        return False
    if isinstance(value, str):
        return value.strip().lower() not in _NOT_DELETED
    return True


def key_sql(fields: Sequence[str], alias: str = "r") -> str:
    """SQL computing a stored record's key text from its columns (a field absent from the data is
    read from `name`). Field names become escaped string literals, never identifiers."""

    def one(name: str) -> str:
        literal = "'" + name.replace("'", "''") + "'"
        # a field absent from the data was the name column (ingestion moves it into `name`)
        return (
            f"COALESCE(NULLIF(btrim({alias}.collection_data ->> {literal}), ''), NULLIF(btrim({alias}.name), ''))"
        )

    if len(fields) == 1:
        return one(fields[0])
    parts = ", ".join(one(f) for f in fields)
    nulls = " OR ".join(f"{one(f)} IS NULL" for f in fields)
    return f"CASE WHEN {nulls} THEN NULL ELSE jsonb_build_array({parts})::text END"


def remember_key(
    db: Executor,
    collection_id: uuid.UUID,
    collection_name: str,
    fields: tuple[str, ...] | None,
) -> tuple[str, ...] | None:
    """The key the ingestion uses: the collection's remembered key, or `fields` remembered now.

    Conflict (409) when the collection already has another key. When a key is first set on a
    collection that holds records, their keys are derived from their data; of several active copies
    of one key (the stale copies content-hash dedup let in), the most recently written stays active
    and the others are archived."""
    stored = db.execute(
        sa.text("SELECT record_key FROM collections WHERE id = :c"), {"c": collection_id}
    ).scalar()
    if stored or fields is not None:
        # keyed ingestions of one collection take turns (until the caller commits): two writers of
        # one new key would otherwise race, and the later one's row would be dropped by ON CONFLICT
        stored = db.execute(
            sa.text("SELECT record_key FROM collections WHERE id = :c FOR UPDATE"), {"c": collection_id}
        ).scalar()
    if stored:
        stored = tuple(stored)
        if fields is not None and fields != stored:
            raise Conflict(
                f"collection '{collection_name}' is keyed by {', '.join(stored)}; "
                f"this ingestion names {', '.join(fields)}. A collection keeps the key it was first given.",
                extra={"record_key": list(stored), "requested": list(fields)},
            )
        return stored
    if fields is None:
        return None
    db.execute(
        sa.text("UPDATE collections SET record_key = CAST(:k AS text[]), updated_at = now() WHERE id = :c"),
        {"k": list(fields), "c": collection_id},
    )
    expr = key_sql(fields)
    db.execute(
        sa.text(
            f"WITH k AS (SELECT r.id, {expr} AS key, row_number() OVER ("
            f"  PARTITION BY r.generation, {expr} "
            "  ORDER BY (r.status = 'active') DESC, r.updated_at DESC, r.created_at DESC, r.id) AS rn "
            "  FROM records r WHERE r.collection_id = :c AND r.record_key IS NULL) "
            "UPDATE records r SET record_key = CASE WHEN k.rn = 1 THEN k.key END, "
            "  status = CASE WHEN k.rn = 1 OR r.status <> 'active' THEN r.status ELSE 'archived' END, "
            "  embedding_status = CASE WHEN k.rn = 1 OR r.status <> 'active' THEN r.embedding_status "
            "    ELSE 'pending' END, "
            "  updated_at = CASE WHEN k.rn = 1 THEN r.updated_at ELSE now() END "
            "FROM k WHERE r.id = k.id AND k.key IS NOT NULL"
        ),
        {"c": collection_id},
    )
    return fields
