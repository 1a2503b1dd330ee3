"""The embedding queue in PostgreSQL: every SQL statement that moves a record's `embedding_status`.

A record waits as `pending`; a run claims a batch (`processing`, stamped `embedding_claimed_at`,
one attempt counted) with `FOR UPDATE SKIP LOCKED`, so concurrent runs never take the same rows;
the run then marks it `indexed`, reschedules it (`pending` again, `embedding_next_attempt_at` in the
future, exponential backoff) after a transient failure, or marks it `failed` with the reason. A
`processing` row whose claim is older than the claim timeout belongs to a run that died: it is
claimable again, and fails once it has used every attempt. Every update after the claim names the
claim time, so a run whose rows were reclaimed or reset meanwhile (reindex) changes nothing.

Only live generations are worked on: the collection's active generation and its staging one.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from core.db.models.record import EMBEDDING_STATUSES
from core.errors import NotFound
from core.records.bulk import Executor

MAX_ERROR_CHARS = 2_000

# a row a run may take now: pending and due, or processing under a claim older than :stale seconds
_CLAIMABLE = (
    "((r.embedding_status = 'pending' AND (r.embedding_next_attempt_at IS NULL "
    "   OR r.embedding_next_attempt_at <= now())) "
    " OR (r.embedding_status = 'processing' AND (r.embedding_claimed_at IS NULL "
    "   OR r.embedding_claimed_at < now() - make_interval(secs => :stale))))"
)
# every predicate starts with the partial index's columns (ix_records_embedding_queue)
_QUEUED = "r.collection_id = :c AND r.generation = :g AND r.embedding_status IN ('pending', 'processing')"

_LIVE_GENERATIONS = (
    "SELECT c.active_generation AS number FROM collections c WHERE c.id = :c "
    "UNION SELECT g.number FROM generations g WHERE g.collection_id = :c AND g.status = 'staging'"
)


@dataclass(frozen=True, slots=True)
class CollectionWork:
    """A collection with records a run could embed now."""

    tenant_id: uuid.UUID
    collection_id: uuid.UUID
    name: str


@dataclass(frozen=True, slots=True)
class ClaimedRecord:
    """A record a run holds: what its text and payload are built from."""

    id: uuid.UUID
    name: str
    record_type: str
    description_llm: str | None
    collection_data: dict[str, Any]
    status: str
    attempts: int


@dataclass(frozen=True, slots=True)
class Claim:
    """One claimed batch of one generation, identified by its claim time."""

    tenant_id: uuid.UUID
    collection_id: uuid.UUID
    generation: int
    claimed_at: datetime
    records: tuple[ClaimedRecord, ...]

    @property
    def ids(self) -> list[uuid.UUID]:
        return [r.id for r in self.records]


@dataclass(frozen=True, slots=True)
class CollectionInfo:
    """A tenant's collection, its active generation and its staging one (None without a replace)."""

    tenant_id: uuid.UUID
    id: uuid.UUID
    name: str
    active_generation: int
    staging_generation: int | None

    @property
    def live_generations(self) -> list[int]:
        """Active first: a collection's searches read it, so its backlog goes first."""
        staging = [self.staging_generation] if self.staging_generation is not None else []
        return [self.active_generation, *staging]


def collection_info(db: Executor, tenant_id: uuid.UUID, collection_id: uuid.UUID) -> CollectionInfo:
    """The tenant's collection; NotFound when it does not exist or is another tenant's."""
    row = db.execute(
        sa.text(
            "SELECT c.name, c.active_generation, (SELECT g.number FROM generations g "
            "  WHERE g.collection_id = c.id AND g.status = 'staging') AS staging "
            "FROM collections c WHERE c.id = :c AND c.tenant_id = :t"
        ),
        {"c": collection_id, "t": tenant_id},
    ).first()
    if row is None:
        raise NotFound(f"collection {collection_id} not found")
    return CollectionInfo(tenant_id, collection_id, row.name, int(row.active_generation), row.staging)


def collections_with_work(db: Executor, *, claim_timeout_s: float) -> list[CollectionWork]:
    """Collections whose active or staging generation holds a record claimable now (pending and due,
    or processing under a claim older than `claim_timeout_s`). One index probe per collection."""
    rows = db.execute(
        sa.text(
            "SELECT c.tenant_id, c.id, c.name FROM collections c WHERE EXISTS ("
            "  SELECT 1 FROM records r WHERE r.collection_id = c.id AND r.generation IN ("
            "    c.active_generation, (SELECT g.number FROM generations g WHERE g.collection_id = c.id "
            "      AND g.status = 'staging')) "
            f"  AND r.embedding_status IN ('pending', 'processing') AND {_CLAIMABLE}) "
            "ORDER BY c.tenant_id, c.id"
        ),
        {"stale": claim_timeout_s},
    ).all()
    return [CollectionWork(r.tenant_id, r.id, r.name) for r in rows]


def has_claimable(db: Executor, collection_id: uuid.UUID, generation: int, *, claim_timeout_s: float) -> bool:
    """Whether the generation holds a record a run could claim now."""
    return bool(
        db.execute(
            sa.text(f"SELECT EXISTS (SELECT 1 FROM records r WHERE {_QUEUED} AND {_CLAIMABLE})"),
            {"c": collection_id, "g": generation, "stale": claim_timeout_s},
        ).scalar_one()
    )


def has_unfinished(db: Executor, collection_id: uuid.UUID, generation: int) -> bool:
    """Whether any record of the generation is pending or processing (due or not)."""
    return bool(
        db.execute(
            sa.text(f"SELECT EXISTS (SELECT 1 FROM records r WHERE {_QUEUED})"),
            {"c": collection_id, "g": generation},
        ).scalar_one()
    )


def backlog(db: Executor, collection_id: uuid.UUID, generation: int, *, cap: int) -> int:
    """Pending or processing records of the generation, counted up to `cap`."""
    return int(
        db.execute(
            sa.text(f"SELECT count(*) FROM (SELECT 1 FROM records r WHERE {_QUEUED} LIMIT :cap) q"),
            {"c": collection_id, "g": generation, "cap": cap},
        ).scalar_one()
    )


def fail_exhausted_claims(
    db: Executor, collection_id: uuid.UUID, generation: int, *, claim_timeout_s: float, max_attempts: int
) -> int:
    """Fail the abandoned claims (processing past the timeout) that used every attempt: a record
    whose runs keep dying must not be retried forever. Returns how many failed."""
    return db.execute(
        sa.text(
            "UPDATE records r SET embedding_status = 'failed', embedding_claimed_at = NULL, "
            "  embedding_next_attempt_at = NULL, embedding_error = :error "
            f"WHERE {_QUEUED} AND r.embedding_status = 'processing' AND r.embedding_attempts >= :max "
            "AND (r.embedding_claimed_at IS NULL OR r.embedding_claimed_at < now() - make_interval(secs => :stale))"
        ),
        {
            "c": collection_id,
            "g": generation,
            "max": max_attempts,
            "stale": claim_timeout_s,
            "error": f"every embedding run that took this record stopped before finishing ({max_attempts} attempts)",
        },
    ).rowcount


def claim_batch(
    db: Executor,
    tenant_id: uuid.UUID,
    collection_id: uuid.UUID,
    generation: int,
    *,
    limit: int,
    claim_timeout_s: float,
) -> Claim | None:
    """Claim up to `limit` claimable records of one generation (oldest first): they become
    `processing`, stamped with one claim time, one attempt counted. None when nothing is claimable.
    Rows other runs hold are skipped, never waited for. Commit right after."""
    rows = db.execute(
        sa.text(
            "WITH picked AS ("
            f"  SELECT r.id FROM records r WHERE {_QUEUED} AND r.tenant_id = :t AND {_CLAIMABLE} "
            "  ORDER BY r.created_at, r.id LIMIT :n FOR UPDATE SKIP LOCKED) "
            "UPDATE records r SET embedding_status = 'processing', embedding_claimed_at = now(), "
            "  embedding_attempts = LEAST(r.embedding_attempts + 1, 32767) "
            "FROM picked WHERE r.id = picked.id "
            "RETURNING r.id, r.name, r.record_type, r.description_llm, r.collection_data, r.status, "
            "  r.embedding_attempts, r.embedding_claimed_at"
        ),
        {"c": collection_id, "g": generation, "t": tenant_id, "n": limit, "stale": claim_timeout_s},
    ).all()
    if not rows:
        return None
    # now() is the claiming transaction's start: one value for the batch, distinct from any other claim
    claimed_at = rows[0].embedding_claimed_at
    records = tuple(
        ClaimedRecord(
            r.id,
            r.name,
            r.record_type,
            r.description_llm,
            dict(r.collection_data or {}),
            r.status,
            int(r.embedding_attempts),
        )
        for r in rows
    )
    return Claim(tenant_id, collection_id, generation, claimed_at, records)


# the rows of a claim still held by it: processing under this claim's time (a reclaim by another run
# stamps its own time and a reindex resets the status, so neither is touched)
_MINE = "r.id = ANY(CAST(:ids AS uuid[])) AND r.embedding_status = 'processing' AND r.embedding_claimed_at = :claimed"


def mark_indexed(db: Executor, claim: Claim, ids: Sequence[uuid.UUID]) -> int:
    """`indexed` for the claim's records in `ids` (their vectors are stored); returns how many."""
    if not ids:
        return 0
    return db.execute(
        sa.text(
            "UPDATE records r SET embedding_status = 'indexed', embedding_error = NULL, "
            f"  embedding_claimed_at = NULL, embedding_next_attempt_at = NULL WHERE {_MINE}"
        ),
        {"ids": list(ids), "claimed": claim.claimed_at},
    ).rowcount


def mark_failed(db: Executor, claim: Claim, errors: Mapping[uuid.UUID, str]) -> int:
    """`failed` with the reason, at once (input the provider will never accept); returns how many."""
    if not errors:
        return 0
    ids = list(errors)
    return db.execute(
        sa.text(
            "UPDATE records r SET embedding_status = 'failed', embedding_claimed_at = NULL, "
            "  embedding_next_attempt_at = NULL, "
            "  embedding_error = (CAST(:errors AS text[]))[array_position(CAST(:ids AS uuid[]), r.id)] "
            f"WHERE {_MINE}"
        ),
        {"ids": ids, "errors": [e[:MAX_ERROR_CHARS] for e in errors.values()], "claimed": claim.claimed_at},
    ).rowcount


def reschedule(
    db: Executor,
    claim: Claim,
    error: str,
    *,
    max_attempts: int,
    retry_base_s: float,
    retry_max_s: float,
) -> tuple[int, int]:
    """After a transient failure: records with attempts left go back to `pending`, due after
    `retry_base_s * 2**(attempts-1)` seconds (at most `retry_max_s`); the others become `failed`.
    The reason is kept in `embedding_error` either way. Returns (rescheduled, failed)."""
    rows = (
        db.execute(
            sa.text(
                "UPDATE records r SET "
                "  embedding_status = CASE WHEN r.embedding_attempts >= :max THEN 'failed' ELSE 'pending' END, "
                "  embedding_error = :error, embedding_claimed_at = NULL, "
                "  embedding_next_attempt_at = CASE WHEN r.embedding_attempts >= :max THEN NULL ELSE now() + "
                "    make_interval(secs => LEAST(:cap, :base * power(2, GREATEST(r.embedding_attempts - 1, 0)))) END "
                f"WHERE {_MINE} RETURNING r.embedding_status"
            ),
            {
                "ids": claim.ids,
                "claimed": claim.claimed_at,
                "max": max_attempts,
                "base": retry_base_s,
                "cap": retry_max_s,
                "error": error[:MAX_ERROR_CHARS],
            },
        )
        .scalars()
        .all()
    )
    failed = sum(1 for status in rows if status == "failed")
    return len(rows) - failed, failed


def release(db: Executor, claim: Claim, error: str, *, delay_s: float) -> int:
    """Give a claim back untried (the vector store, not the record, failed): `pending` again, the
    attempt not counted, due after `delay_s`. Returns how many records went back."""
    return db.execute(
        sa.text(
            "UPDATE records r SET embedding_status = 'pending', embedding_claimed_at = NULL, "
            "  embedding_attempts = GREATEST(r.embedding_attempts - 1, 0), embedding_error = :error, "
            f"  embedding_next_attempt_at = now() + make_interval(secs => :delay) WHERE {_MINE}"
        ),
        {"ids": claim.ids, "claimed": claim.claimed_at, "error": error[:MAX_ERROR_CHARS], "delay": delay_s},
    ).rowcount


def queue_counts(
    db: Executor, tenant_id: uuid.UUID, collection_id: uuid.UUID, generation: int | None = None
) -> dict[str, int]:
    """Records of a collection's live generations (or of one generation) by embedding status, every
    status present; `queue_depth` is pending + processing."""
    scope = "r.generation = :g" if generation is not None else f"r.generation IN ({_LIVE_GENERATIONS})"
    rows = db.execute(
        sa.text(
            "SELECT r.embedding_status, count(*) FROM records r "
            f"WHERE r.tenant_id = :t AND r.collection_id = :c AND {scope} GROUP BY r.embedding_status"
        ),
        {"t": tenant_id, "c": collection_id, "g": generation},
    ).all()
    counts = dict.fromkeys(EMBEDDING_STATUSES, 0)
    counts.update({status: int(n) for status, n in rows})
    counts["queue_depth"] = counts["pending"] + counts["processing"]
    return counts


def indexed_count(db: Executor, collection_id: uuid.UUID, generation: int) -> int:
    """Records of one generation whose vectors are stored (`indexed`, not archived: an archived
    record is `indexed` once its vector was removed)."""
    return int(
        db.execute(
            sa.text(
                "SELECT count(*) FROM records WHERE collection_id = :c AND generation = :g "
                "AND embedding_status = 'indexed' AND status <> 'archived'"
            ),
            {"c": collection_id, "g": generation},
        ).scalar_one()
    )


def embedded_share(db: Executor, collection_id: uuid.UUID) -> dict[str, float | int]:
    """Active records of the live generation, how many are indexed, and the share (%)."""
    row = db.execute(
        sa.text(
            "SELECT count(*) AS active, count(*) FILTER (WHERE r.embedding_status = 'indexed') AS indexed "
            "FROM records r JOIN collections c ON c.id = r.collection_id AND r.generation = c.active_generation "
            "WHERE r.collection_id = :c AND r.status = 'active'"
        ),
        {"c": collection_id},
    ).one()
    share = 100.0 * row.indexed / row.active if row.active else 100.0
    return {
        "active_records": int(row.active),
        "embedded_records": int(row.indexed),
        "embedded_percent": round(share, 1),
    }


def reset_for_reembedding(db: Executor, tenant_id: uuid.UUID, collection_id: uuid.UUID) -> int:
    """Queue every record of the collection's live generations for embedding again (search text
    untouched; `core.records.reindex` rebuilds that too). Returns how many were queued."""
    collection_info(db, tenant_id, collection_id)  # NotFound for another tenant's collection
    return db.execute(
        sa.text(
            "UPDATE records r SET embedding_status = 'pending', embedding_error = NULL, embedding_attempts = 0, "
            "  embedding_claimed_at = NULL, embedding_next_attempt_at = NULL "
            f"WHERE r.tenant_id = :t AND r.collection_id = :c AND r.generation IN ({_LIVE_GENERATIONS})"
        ),
        {"t": tenant_id, "c": collection_id},
    ).rowcount
