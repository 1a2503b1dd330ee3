"""Health checks of one collection's data path, each a plain answer an operator can act on.

Dagster shows them as asset checks of the collection's partition (`assets/collection_checks.py`),
but nothing here knows Dagster: each function reads one collection and returns a `CheckOutcome`
(passed, one sentence, metadata). Functions only read; they never commit.

- `vectors_match_indexed_records`: every live generation's vector collection holds as many points
  as the generation has indexed records (a generation with records in `processing` is skipped).
- `no_stale_pending_embeddings`: no record has waited for its embedding longer than a threshold.
- `one_active_generation`: exactly one generation is active, and it is the collection's pointer.
- `search_text_rebuilt`: the latest reindex request finished (not failed, not stuck past a
  threshold) and no record lacks its search text.
- `export_files_present`: every succeeded, unexpired export still has its file.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.admin.reindex import REINDEX_KIND
from core.embeddings.consistency import compare_vector_counts
from core.exports.expiry import EXPORT_KIND
from core.exports.stream import resolve_path
from core.vectors.base import VectorIndex

#: at most this many offending items are listed in a check's metadata
LISTED = 20


@dataclass(frozen=True)
class CheckOutcome:
    """One check of one collection: whether it passed, why, and what an operator reads."""

    passed: bool
    description: str
    metadata: dict[str, Any] = field(default_factory=dict)


def vectors_match_indexed_records(session: Session, index: VectorIndex, collection_id: uuid.UUID) -> CheckOutcome:
    """Each live generation (active, staging) holds one vector per indexed record."""
    generations = compare_vector_counts(session, index, collection_ids=[collection_id])
    bad = [g for g in generations if not g.consistent]
    listed = [
        {"generation": g.generation, "indexed_records": g.indexed_records, "vectors": g.vectors,
         "in_flight": g.in_flight}
        for g in generations
    ]
    metadata = {"generations": listed, "mismatched": len(bad)}
    if bad:
        said = "; ".join(
            f"generation {g.generation}: {g.indexed_records} indexed records, "
            f"{'no vector collection' if g.vectors is None else f'{g.vectors} vectors'}"
            for g in bad
        )
        return CheckOutcome(False, f"vectors disagree with indexed records ({said})", metadata)
    in_flight = sum(1 for g in generations if g.in_flight)
    suffix = f" ({in_flight} generation(s) mid-run, not compared)" if in_flight else ""
    return CheckOutcome(True, f"vector counts equal indexed records in {len(generations)} generation(s){suffix}", metadata)


def no_stale_pending_embeddings(
    session: Session, collection_id: uuid.UUID, *, threshold: timedelta, claim_timeout: timedelta,
    now: datetime | None = None,
) -> CheckOutcome:
    """No record of a live generation has waited for its embedding longer than `threshold`.

    A record waits from when it last changed or was last queued: its insert or update, its retry's
    due time, and the collection's latest finished reindex (which queues every record again
    without touching `updated_at`). A record `processing` under a claim older than
    `claim_timeout` waits too (its run died). Failed records are not waiting (they are reported by
    the embedding runs)."""
    now = now or datetime.now(UTC)
    row = session.execute(
        sa.text(
            "WITH live AS ("
            "  SELECT c.active_generation AS g FROM collections c WHERE c.id = :c"
            "  UNION SELECT number FROM generations WHERE collection_id = :c AND status = 'staging'),"
            " reindexed AS ("
            "  SELECT max(finished_at) AS at FROM work_requests"
            "  WHERE collection_id = :c AND kind = :reindex AND status = 'succeeded'),"
            " waiting AS ("
            "  SELECT r.generation, r.embedding_status,"
            "    greatest(r.created_at, r.updated_at, r.embedding_next_attempt_at, (SELECT at FROM reindexed)) AS since"
            "  FROM records r WHERE r.collection_id = :c AND r.generation IN (SELECT g FROM live)"
            "  AND r.status = 'active' AND (r.embedding_status = 'pending' OR (r.embedding_status = 'processing'"
            "  AND (r.embedding_claimed_at IS NULL OR r.embedding_claimed_at < :claimed_before))))"
            " SELECT count(*) AS waiting, count(*) FILTER (WHERE since < :stale_before) AS stale,"
            "  min(since) AS oldest FROM waiting"
        ),
        {"c": collection_id, "reindex": REINDEX_KIND, "claimed_before": now - claim_timeout,
         "stale_before": now - threshold},
    ).one()
    oldest_s = round((now - row.oldest).total_seconds(), 1) if row.oldest is not None else 0.0
    metadata = {"records_waiting": int(row.waiting), "records_stale": int(row.stale),
                "oldest_wait_s": oldest_s, "threshold_s": threshold.total_seconds()}
    if row.stale:
        return CheckOutcome(
            False,
            f"{row.stale} record(s) waiting for embeddings longer than {threshold} (oldest {oldest_s:.0f} s)",
            metadata,
        )
    return CheckOutcome(True, f"{row.waiting} record(s) waiting for embeddings, none longer than {threshold}", metadata)


def one_active_generation(session: Session, collection_id: uuid.UUID) -> CheckOutcome:
    """Exactly one generation is active, and the collection points at it."""
    pointer = session.execute(
        sa.text("SELECT active_generation FROM collections WHERE id = :c"), {"c": collection_id}
    ).scalar_one()
    rows = session.execute(
        sa.text("SELECT number, status, record_count FROM generations WHERE collection_id = :c "
                "AND status IN ('active', 'staging') ORDER BY number"),
        {"c": collection_id},
    ).all()
    active = [r.number for r in rows if r.status == "active"]
    staging = [r.number for r in rows if r.status == "staging"]
    metadata = {"active_generation": pointer, "active_generations": active, "staging_generations": staging,
                "active_records": next((int(r.record_count) for r in rows if r.number == pointer), 0)}
    if len(active) != 1:
        return CheckOutcome(False, f"{len(active)} active generations ({active or 'none'}); exactly one must be", metadata)
    if active[0] != pointer:
        return CheckOutcome(
            False, f"the collection points at generation {pointer} but generation {active[0]} is active", metadata
        )
    return CheckOutcome(True, f"generation {pointer} is the one active generation", metadata)


def search_text_rebuilt(
    session: Session, collection_id: uuid.UUID, *, threshold: timedelta, now: datetime | None = None
) -> CheckOutcome:
    """The collection's latest reindex request was served (not failed, not waiting longer than
    `threshold`), and every record has its search text."""
    now = now or datetime.now(UTC)
    latest = session.execute(
        sa.text("SELECT id, status, created_at, finished_at, error, result FROM work_requests "
                "WHERE collection_id = :c AND kind = :k ORDER BY created_at DESC LIMIT 1"),
        {"c": collection_id, "k": REINDEX_KIND},
    ).first()
    missing = int(session.execute(
        sa.text("SELECT count(*) FROM records WHERE collection_id = :c AND search_text IS NULL"), {"c": collection_id}
    ).scalar_one())
    metadata: dict[str, Any] = {"records_without_search_text": missing}
    if latest is not None:
        metadata.update(
            reindex_request_id=str(latest.id), reindex_status=latest.status,
            requested_at=latest.created_at.isoformat(),
            finished_at=latest.finished_at.isoformat() if latest.finished_at else None,
            records_rebuilt=(latest.result or {}).get("records_reset"),
        )
    if missing:
        return CheckOutcome(False, f"{missing} record(s) have no search text", metadata)
    if latest is None:
        return CheckOutcome(True, "no reindex was requested; every record has its search text", metadata)
    if latest.status == "failed":
        return CheckOutcome(False, f"the reindex requested at {latest.created_at:%Y-%m-%d %H:%M} failed: "
                                   f"{latest.error or 'no reason given'}", metadata)
    if latest.status in ("queued", "running"):
        waited = now - latest.created_at
        if waited > threshold:
            return CheckOutcome(
                False, f"the reindex requested {waited.total_seconds():.0f} s ago is still {latest.status}", metadata
            )
        return CheckOutcome(True, f"a reindex is {latest.status} (requested {waited.total_seconds():.0f} s ago)", metadata)
    return CheckOutcome(True, f"search text rebuilt by the reindex requested at {latest.created_at:%Y-%m-%d %H:%M}",
                        metadata)


def export_files_present(
    session: Session, collection_id: uuid.UUID, *, export_dir: Path, now: datetime | None = None
) -> CheckOutcome:
    """Every succeeded export of the collection that has not expired still has its file."""
    now = now or datetime.now(UTC)
    rows = session.execute(
        sa.text("SELECT id, result, expires_at FROM work_requests WHERE collection_id = :c AND kind = :k "
                "AND status = 'succeeded' AND (expires_at IS NULL OR expires_at > :now) ORDER BY created_at"),
        {"c": collection_id, "k": EXPORT_KIND, "now": now},
    ).all()
    gone = []
    for row in rows:
        stored = (row.result or {}).get("path")
        path = resolve_path(export_dir, stored) if stored else None
        if path is None or not path.is_file():
            gone.append({"export_request_id": str(row.id), "path": stored,
                         "expires_at": row.expires_at.isoformat() if row.expires_at else None})
    metadata = {"unexpired_exports": len(rows), "files_missing": len(gone), "missing": gone[:LISTED]}
    if gone:
        return CheckOutcome(False, f"{len(gone)} of {len(rows)} unexpired export(s) lost their file", metadata)
    return CheckOutcome(True, f"all {len(rows)} unexpired export file(s) exist", metadata)
