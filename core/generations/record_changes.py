"""What a blue-green replace of a keyed collection changes: records added, changed and removed
relative to the live generation, compared by record key (core/ingestion/keys.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

_DIFF = sa.text(
    "SELECT count(*) FILTER (WHERE a.id IS NULL) AS added, "
    "  count(*) FILTER (WHERE a.id IS NOT NULL AND a.content_hash <> s.content_hash) AS changed "
    "FROM records s LEFT JOIN records a ON a.collection_id = s.collection_id AND a.generation = :live "
    "  AND a.record_key = s.record_key AND a.status = 'active' "
    "WHERE s.collection_id = :c AND s.generation = :staging AND s.status = 'active' AND s.record_key IS NOT NULL"
)
_REMOVED = sa.text(
    "SELECT count(*) FROM records a WHERE a.collection_id = :c AND a.generation = :live AND a.status = 'active' "
    "AND NOT EXISTS (SELECT 1 FROM records s WHERE s.collection_id = :c AND s.generation = :staging "
    "  AND s.status = 'active' AND s.record_key = a.record_key)"
)


@dataclass(frozen=True, slots=True)
class RecordChanges:
    """Active records of the staging generation whose key the live one lacks (added), holds with other
    content (changed), and active live records whose key staging lacks (removed; unkeyed ones too)."""

    added: int
    changed: int
    removed: int


def record_changes(
    db: Session, collection_id: uuid.UUID, *, live: int, staging: int
) -> RecordChanges | None:
    """The changes a swap of `staging` over `live` makes; None for a collection without a record key.
    Costs one pass over both generations through the key index (not constant like the swap itself)."""
    keyed = db.execute(
        sa.text("SELECT record_key IS NOT NULL FROM collections WHERE id = :c"), {"c": collection_id}
    ).scalar()
    if not keyed:
        return None
    params = {"c": collection_id, "live": live, "staging": staging}
    added, changed = db.execute(_DIFF, params).one()
    removed = db.execute(_REMOVED, params).scalar_one()
    return RecordChanges(int(added), int(changed), int(removed))
