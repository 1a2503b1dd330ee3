"""A tenant's collection found by name: the one lookup that writes and queued work start from."""

from __future__ import annotations

import uuid
from typing import NamedTuple

import sqlalchemy as sa

from core.errors import NotFound
from core.records.bulk import Executor

_BY_NAME = sa.text("SELECT id, active_generation FROM collections WHERE tenant_id = :t AND name = :n")


class NamedCollection(NamedTuple):
    id: uuid.UUID
    active_generation: int


def require_collection(db: Executor, tenant_id: uuid.UUID, name: str) -> NamedCollection:
    """The tenant's collection called `name`; NotFound naming it when the tenant has none (another
    tenant's collection of that name included)."""
    row = db.execute(_BY_NAME, {"t": tenant_id, "n": name}).first()
    if row is None:
        raise NotFound(f"collection '{name}' not found")
    return NamedCollection(row.id, row.active_generation)
