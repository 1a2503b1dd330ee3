"""`GET /admin/stats`: records by status, active records by embedding status, and the queue depth.

Each figure is counted exactly up to `COUNT_CAP`; a figure past the cap is the planner's estimate
for the same condition (from the table statistics that autovacuum keeps fresh), and the answer says
so with `counts_exact: false`. Exact counts at 1M records cost ~0.4 s for the statuses alone (an
index-only scan of a million entries) and ~1 s with a full embedding queue (measured; bench figures
in the README); capped counts plus EXPLAIN stay in milliseconds at any size.

  * records by status   - `ix_records_scope (tenant_id, collection_id, generation, status)`;
  * pending/processing  - the partial `ix_records_embedding_queue` (only queued rows are in it);
  * failed              - the partial index on failed embeddings (migration 0005);
  * indexed             - derived: active records minus the three above.
`indexing_status` covers active records (its parts add up to `records_by_status.active`, as in the
contract's example); `queue_depth` is active records waiting for an embedding (pending + processing)
plus queued work requests (reindex, export, pull, ... not yet started by a run).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from core.db.models.record import RECORD_STATUSES
from core.records.bulk import Executor

#: figures up to this are exact; beyond it, the planner's estimate
COUNT_CAP = 10_000


@dataclass(frozen=True, slots=True)
class PlatformStats:
    """Counts of one scope (one tenant, or the whole platform)."""

    records_by_status: dict[str, int]
    indexing_status: dict[str, int]
    queued_requests: int
    exact: bool = True

    @property
    def total_records(self) -> int:
        return sum(self.records_by_status.values())

    @property
    def queue_depth(self) -> int:
        return self.indexing_status["pending"] + self.indexing_status["processing"] + self.queued_requests

    def to_dict(self) -> dict[str, Any]:
        """The contract's shape, plus `counts_exact`."""
        return {
            "total_records": self.total_records,
            "records_by_status": dict(self.records_by_status),
            "indexing_status": dict(self.indexing_status),
            "queue_depth": self.queue_depth,
            "counts_exact": self.exact,
        }


def _count(db: Executor, where: str, params: dict[str, Any], table: str = "records r") -> tuple[int, bool]:
    """(count, exact): exact up to COUNT_CAP, else the planner's estimate (never below the cap)."""
    match = f"SELECT 1 FROM {table} WHERE {where}"
    n = int(
        db.execute(sa.text(f"SELECT count(*) FROM ({match} LIMIT {COUNT_CAP + 1}) q"), params).scalar_one()
    )
    if n <= COUNT_CAP:
        return n, True
    plan = db.execute(sa.text(f"EXPLAIN (FORMAT JSON) {match}"), params).scalar_one()
    if isinstance(plan, str):
        plan = json.loads(plan)
    return max(int(plan[0]["Plan"]["Plan Rows"]), COUNT_CAP + 1), False


def platform_stats(db: Executor, tenant_ids: Sequence[uuid.UUID] | None = None) -> PlatformStats:
    """Counts for the given tenants (all tenants when `tenant_ids` is None); every status of the
    contract is present, zero when nothing has it; exact up to COUNT_CAP per figure."""
    params: dict[str, Any] = {}
    scope = ""
    if tenant_ids is not None:
        params["tenants"] = [uuid.UUID(str(t)) for t in tenant_ids]
        scope = " AND r.tenant_id = ANY(CAST(:tenants AS uuid[]))"
    exact = True
    by_status: dict[str, int] = {}
    for status in RECORD_STATUSES:  # fixed strings, never user text
        by_status[status], ok = _count(db, f"r.status = '{status}'{scope}", params)
        exact &= ok
    indexing: dict[str, int] = {"indexed": 0}
    for status in ("pending", "processing", "failed"):
        indexing[status], ok = _count(
            db, f"r.embedding_status = '{status}' AND r.status = 'active'{scope}", params
        )
        exact &= ok
    indexing["indexed"] = max(
        0, by_status["active"] - indexing["pending"] - indexing["processing"] - indexing["failed"]
    )
    requests, ok = _count(
        db,
        "w.status = 'queued'" + scope.replace("r.tenant_id", "w.tenant_id"),
        params,
        table="work_requests w",
    )
    return PlatformStats(by_status, indexing, requests, exact and ok)
