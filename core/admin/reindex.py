"""Queueing reindex work: the API answers at once, a Dagster run (partition = collection) rebuilds.

`records_reset` in the API's answer is counted when the request is queued (every record of the
collection, all generations: what `core.records.reindex_collection` rewrites); the run's request
result holds the number it actually rebuilt. While a collection's reindex request is still queued,
asking again returns that request instead of queueing a second one.

What the request's Dagster run is asked with (`reindex_run_config`, `RUN_TAGS`, the collection's
partition key) is defined here once for the two places that ask for it: `reindex_request_sensor`
(orchestration/ingestion.py) and the API, which launches the run right after the commit
(api/requests/launch.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.collections.events import names_of
from core.collections.lookup import require_collection
from core.db.models import RequestStatus, WorkRequest
from core.requests import one_op_request_config, submit_request

REINDEX_KIND = "reindex"
REINDEX_ASSET = "collection_search_text"  # the reindex job's one asset
REINDEX_JOB = "reindex_collection_job"
REINDEX_SENSOR = "reindex_request_sensor"
RUN_TAGS = {"kariz/area": "ingestion"}  # beside the request's own tags


def reindex_run_config(request_id: uuid.UUID | str) -> dict:
    """Run config of a reindex request's run: the request id, handed to `collection_search_text`."""
    return one_op_request_config(REINDEX_ASSET, request_id)


@dataclass(frozen=True, slots=True)
class ReindexQueued:
    """A collection's queued reindex: the request serving it and the records it will reset."""

    request_id: uuid.UUID
    collection_id: uuid.UUID
    collection: str
    records_reset: int
    already_queued: bool


def queue_collection_reindex(
    session: Session, tenant_id: uuid.UUID, collection: str
) -> ReindexQueued:
    """Queue (or find already queued) a reindex of the tenant's collection; NotFound for a collection
    the tenant does not have. The caller commits."""
    collection_id = require_collection(session, tenant_id, collection).id
    records = int(
        session.execute(
            sa.text("SELECT count(*) FROM records WHERE collection_id = :c"), {"c": collection_id}
        ).scalar_one()
    )
    waiting = session.execute(
        sa.select(WorkRequest)
        .where(
            WorkRequest.tenant_id == tenant_id,
            WorkRequest.kind == REINDEX_KIND,
            WorkRequest.collection_id == collection_id,
            WorkRequest.status == RequestStatus.QUEUED.value,
        )
        .order_by(WorkRequest.created_at)
        .limit(1)
    ).scalar_one_or_none()
    if waiting is not None:
        waiting.total = records
        return ReindexQueued(waiting.id, collection_id, collection, records, already_queued=True)
    names = names_of(session, collection_id)
    request = submit_request(
        session,
        tenant_id=tenant_id,
        kind=REINDEX_KIND,
        params={"collection": collection},
        collection_id=collection_id,
        total=records,
        partition=names.partition if names else None,
    )
    return ReindexQueued(request.id, collection_id, collection, records, already_queued=False)
