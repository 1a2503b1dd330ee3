"""The RAG store's vectors: one collection per tenant in the vector index, points = chunk ids.

Chunks and vectors cannot change in one transaction (the index is another store), so every id whose
vector may outlive its chunk is written to `store_vector_cleanup` first, in PostgreSQL:
- before a sync writes new vectors (they have no chunk until the chunk transaction commits);
- in the transaction that drops chunks (file delete, re-sync, store delete).
`drain_cleanup` then deletes the vectors of listed ids that have no chunk and forgets them, so a run
killed anywhere leaves nothing that the next drain does not remove.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.db.models import VectorCleanup
from core.errors import NotFound
from core.vectors.base import VectorIndex


def store_collection_name(tenant_id: uuid.UUID) -> str:
    """The vector collection of a tenant's RAG store."""
    return f"store_t{uuid.UUID(str(tenant_id)).hex}"


def ensure_store_collection(index: VectorIndex, tenant_id: uuid.UUID, dimension: int) -> str:
    """The tenant's store collection, created when missing."""
    name = store_collection_name(tenant_id)
    index.create_collection(name, dimension)
    return name


def mark_for_cleanup(session: Session, tenant_id: uuid.UUID, chunk_ids: Sequence[uuid.UUID]) -> None:
    """List ids whose vectors the next drain removes unless a chunk holds them (the caller commits)."""
    if not chunk_ids:
        return
    session.execute(
        insert(VectorCleanup).values([{"chunk_id": i, "tenant_id": tenant_id} for i in chunk_ids])
        .on_conflict_do_nothing()
    )


def forget_cleanup(session: Session, chunk_ids: Sequence[uuid.UUID]) -> None:
    """Drop ids from the cleanup list (their chunks are committed)."""
    if chunk_ids:
        session.execute(sa.delete(VectorCleanup).where(VectorCleanup.chunk_id.in_(list(chunk_ids))))


def drain_cleanup(session: Session, tenant_id: uuid.UUID, index: VectorIndex, *, batch: int = 5000) -> int:
    """Delete the vectors of listed ids that have no chunk and forget them (the caller commits; a drain
    that is not committed is simply repeated); returns how many vectors were removed."""
    removed = 0
    name = store_collection_name(tenant_id)
    while True:
        rows = session.execute(
            sa.text(
                "SELECT v.chunk_id, EXISTS (SELECT 1 FROM file_chunks c WHERE c.id = v.chunk_id) AS kept "
                "FROM store_vector_cleanup v WHERE v.tenant_id = :t ORDER BY v.chunk_id LIMIT :n"
            ),
            {"t": tenant_id, "n": batch},
        ).all()
        if not rows:
            return removed
        orphans = [r.chunk_id for r in rows if not r.kept]
        if orphans:
            with contextlib.suppress(NotFound):  # no collection, no vectors
                index.delete(name, orphans)
            removed += len(orphans)
        forget_cleanup(session, [r.chunk_id for r in rows])
        session.flush()
        if len(rows) < batch:
            return removed
