"""`GET /admin/stats`: records by status, active records by embedding status, and the queue depth.

Every figure is exact and read through an index rather than a scan of `records`:
  * records by status   - `ix_records_scope (tenant_id, collection_id, generation, status)`, an
                           index-only scan once autovacuum has marked the pages all-visible;
  * pending/processing  - the partial `ix_records_embedding_queue` (only queued rows are in it);
  * failed              - the partial index on failed embeddings (migration 0005);
  * indexed             - derived: active records minus the three above.
`indexing_status` covers active records (its parts add up to `records_by_status.active`, as in the
contract's example); `queue_depth` is active records waiting for an embedding (pending + processing)
plus queued work requests (reindex, export, pull, ... not yet started by a run).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from core.db.models.record import EMBEDDING_STATUSES, RECORD_STATUSES
from core.records.bulk import Executor


@dataclass(frozen=True, slots=True)
class PlatformStats:
    """Counts of one scope (one tenant, or the whole platform)."""

    records_by_status: dict[str, int]
    indexing_status: dict[str, int]
    queued_requests: int

    @property
    def total_records(self) -> int:
        return sum(self.records_by_status.values())

    @property
    def queue_depth(self) -> int:
        return self.indexing_status["pending"] + self.indexing_status["processing"] + self.queued_requests

    def to_dict(self) -> dict[str, Any]:
        """The contract's shape."""
        return {
            "total_records": self.total_records,
            "records_by_status": dict(self.records_by_status),
            "indexing_status": dict(self.indexing_status),
            "queue_depth": self.queue_depth,
        }


def _scoped(sql: str, tenant_ids: Sequence[uuid.UUID] | None, condition: str) -> str:
    return sql.replace("{scope}", f"AND {condition}" if tenant_ids is not None else "")


# `status` is compared with a constant per statement so the planner keeps to the scope index
_BY_STATUS = (
    "SELECT s.status, (SELECT count(*) FROM records r WHERE r.status = s.status {scope}) "
    "FROM unnest(CAST(:statuses AS text[])) AS s(status)"
)
_QUEUED = (
    "SELECT r.embedding_status, count(*) FROM records r "
    "WHERE r.embedding_status IN ('pending', 'processing') AND r.status = 'active' {scope} "
    "GROUP BY r.embedding_status"
)
_FAILED = "SELECT count(*) FROM records r WHERE r.embedding_status = 'failed' AND r.status = 'active' {scope}"
_REQUESTS = "SELECT count(*) FROM work_requests w WHERE w.status = 'queued' {scope}"


def platform_stats(db: Executor, tenant_ids: Sequence[uuid.UUID] | None = None) -> PlatformStats:
    """Exact counts for the given tenants (all tenants when `tenant_ids` is None); every status of
    the contract is present, zero when nothing has it."""
    params: dict[str, Any] = {"statuses": list(RECORD_STATUSES)}
    if tenant_ids is not None:
        params["tenants"] = [uuid.UUID(str(t)) for t in tenant_ids]
    by_tenant = "r.tenant_id = ANY(CAST(:tenants AS uuid[]))"
    # the queue index has no tenant column: go through the tenant's collections
    by_collection = "r.collection_id IN (SELECT c.id FROM collections c WHERE c.tenant_id = ANY(CAST(:tenants AS uuid[])))"
    by_status = dict.fromkeys(RECORD_STATUSES, 0)
    for status, n in db.execute(sa.text(_scoped(_BY_STATUS, tenant_ids, by_tenant)), params):
        by_status[status] = int(n)
    indexing = dict.fromkeys(("indexed", *(s for s in EMBEDDING_STATUSES if s != "indexed")), 0)
    for status, n in db.execute(sa.text(_scoped(_QUEUED, tenant_ids, by_collection)), params):
        indexing[status] = int(n)
    indexing["failed"] = int(
        db.execute(sa.text(_scoped(_FAILED, tenant_ids, by_collection)), params).scalar_one()
    )
    indexing["indexed"] = max(
        0, by_status["active"] - indexing["pending"] - indexing["processing"] - indexing["failed"]
    )
    requests = db.execute(
        sa.text(_scoped(_REQUESTS, tenant_ids, "w.tenant_id = ANY(CAST(:tenants AS uuid[]))")), params
    ).scalar_one()
    return PlatformStats(by_status, indexing, int(requests))
