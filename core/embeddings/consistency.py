"""Do the vector collections hold exactly the records PostgreSQL says are indexed?

For each live generation (active and staging) of each collection, the number of points in the
generation's vector collection must equal the number of its records with `embedding_status =
'indexed'`. A generation with records in `processing` is skipped: a run is between storing vectors
and marking them, so the two counts legitimately differ for a moment.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa

from core.embeddings import queue
from core.errors import NotFound
from core.records.bulk import Executor
from core.vectors.base import VectorIndex, vector_collection_name


@dataclass(frozen=True, slots=True)
class GenerationVectors:
    """The two counts of one live generation, and whether they agree."""

    tenant_id: uuid.UUID
    collection_id: uuid.UUID
    collection: str
    generation: int
    indexed_records: int
    vectors: int | None  # None: the vector collection does not exist
    in_flight: bool

    @property
    def consistent(self) -> bool:
        """In flight counts as consistent; a missing collection agrees with zero indexed records."""
        return self.in_flight or (self.vectors or 0) == self.indexed_records

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "tenant_id": str(self.tenant_id),
            "collection_id": str(self.collection_id),
            "consistent": self.consistent,
        }


def compare_vector_counts(
    db: Executor, index: VectorIndex, *, collection_ids: list[uuid.UUID] | None = None
) -> list[GenerationVectors]:
    """Both counts for every live generation of the given collections (default: all of them)."""
    sql = "SELECT tenant_id, id FROM collections"
    params: dict[str, Any] = {}
    if collection_ids is not None:
        sql += " WHERE id = ANY(CAST(:ids AS uuid[]))"
        params["ids"] = list(collection_ids)
    found = []
    for tenant_id, collection_id in db.execute(sa.text(sql + " ORDER BY tenant_id, id"), params).all():
        info = queue.collection_info(db, tenant_id, collection_id)
        for generation in info.live_generations:
            name = vector_collection_name(tenant_id, collection_id, generation)
            try:
                vectors: int | None = index.count(name)
            except NotFound:
                vectors = None
            in_flight = bool(
                db.execute(
                    sa.text(
                        "SELECT EXISTS (SELECT 1 FROM records WHERE collection_id = :c AND generation = :g "
                        "AND embedding_status = 'processing')"
                    ),
                    {"c": collection_id, "g": generation},
                ).scalar_one()
            )
            found.append(
                GenerationVectors(
                    tenant_id,
                    collection_id,
                    info.name,
                    generation,
                    queue.indexed_count(db, collection_id, generation),
                    vectors,
                    in_flight,
                )
            )
    return found
