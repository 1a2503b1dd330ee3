"""Embeddings in Dagster: pending records become embedding runs, one collection per run.

- `embed_collection_job`: the API launches a collection's run right after an ingestion commits new
  or changed records (api/requests/launch.py, the run key and tags below); `embedding_sensor` is the
  fallback and the path for every other writer: every few seconds, the collections whose active or
  staging generation holds claimable records (pending and due, or processing under an abandoned
  claim) get a run, tagged `kariz/tenant` and `kariz/collection`, with run_key
  `embed:<collection>:<10-second window>`; a collection whose run is still queued or running gets no
  second one (the running one drains what arrives meanwhile).
- `collection_embeddings` (assets/embeddings): materializing partitions re-embeds chosen collections
  (a backfill from the UI). Its checks (`vectors_match_indexed_records`, `no_stale_pending_embeddings`,
  assets/collection_checks.py) run with it and hourly
  (`collection_checks_schedule`, orchestration/checks.py). The partitions (`collections`, one per
  collection, shared by every collection stage) are kept equal to the collections table by
  `reindex_request_sensor` (orchestration/ingestion.py).
- `POST /admin/reindex/{collection}` rebuilds search text and sets the records pending again
  (orchestration/ingestion.py); this sensor then re-embeds them like any other pending work.
"""

# no `from __future__ import annotations`: Dagster reads op and config annotations at definition time

import time
import uuid
from typing import Optional

import dagster as dg

from assets.embeddings.assets import embedded_share
from core.collections import events
from core.embeddings import queue
from core.embeddings.factory import get_embedding_provider
from core.embeddings.pipeline import PipelineOptions, run_embedding_pipeline
from core.embeddings.runs import AREA_TAGS, EMBED_JOB, EMBED_OP, EMBED_SENSOR, embed_run_config, embed_run_key
from core.vectors.factory import get_vector_index
from orchestration.collection_events import log_events
from orchestration.requests import COLLECTION_TAG, IN_PROGRESS, TENANT_TAG
from orchestration.resources import DatabaseResource, SettingsResource

_DEFAULTS = PipelineOptions()


class EmbedConfig(dg.Config):
    """The collection a run embeds, and how."""

    tenant_id: str
    collection_id: str
    batch_size: int = _DEFAULTS.batch_size
    max_records: Optional[int] = None  # noqa: UP045 - Dagster's config types want Optional here
    claim_timeout_s: float = _DEFAULTS.claim_timeout_s


def _log_embeddings(
    context: dg.OpExecutionContext, database: DatabaseResource, collection_id: uuid.UUID, metadata: dict
) -> None:
    """The run's embedding work as a materialization of `collection_embeddings` (also when it
    stopped: the vectors it indexed before are there), with the live generation's embedded share."""
    with database.session() as session:
        names = events.names_of(session, collection_id)
    if names is None or not metadata.get("records_claimed"):
        return
    found = names.event(
        events.EMBEDDINGS,
        f"embedding run {context.run_id[:8]}: {metadata['records_indexed']} records indexed",
        {**metadata, **embedded_share(database, collection_id)},
    )
    log_events(context, [found])


@dg.op(
    name=EMBED_OP,
    description="Embed the pending records of one collection (active, then staging generation).",
)
def embed_collection(
    context: dg.OpExecutionContext,
    config: EmbedConfig,
    database: DatabaseResource,
    settings: SettingsResource,
) -> None:
    current = settings.get()
    report = run_embedding_pipeline(
        database.engine,
        uuid.UUID(config.tenant_id),
        uuid.UUID(config.collection_id),
        provider=get_embedding_provider(current),
        index=get_vector_index(current, database_url=database.resolved_url),
        options=PipelineOptions(
            batch_size=config.batch_size,
            max_records=config.max_records,
            claim_timeout_s=config.claim_timeout_s,
        ),
    )
    metadata = report.to_metadata()
    _log_embeddings(context, database, uuid.UUID(config.collection_id), metadata)
    context.log.info(
        "tenant %s collection %s: %d claimed, %d indexed, %d failed, %.1f texts/s, %d still queued",
        config.tenant_id,
        report.collection,
        report.claimed,
        report.indexed,
        report.failed,
        report.texts_per_s,
        metadata["queue_depth"],
    )
    if report.stopped:
        # the records wait (pending, or reclaimed after the timeout); a red run shows the outage
        raise dg.Failure(description=f"embedding stopped: {report.stopped}", metadata=metadata)
    context.add_output_metadata(metadata)


@dg.job(
    name=EMBED_JOB,
    description="Embed one collection's pending records (launched by embedding_sensor, or by the API after an ingestion).",
    tags=AREA_TAGS,
)
def embed_collection_job() -> None:
    embed_collection()


def _collections_being_embedded(instance: dg.DagsterInstance) -> set[str]:
    records = instance.get_run_records(
        dg.RunsFilter(job_name=embed_collection_job.name, statuses=IN_PROGRESS), limit=1000
    )
    return {r.dagster_run.tags.get(COLLECTION_TAG, "") for r in records}


@dg.sensor(
    name=EMBED_SENSOR,
    job=embed_collection_job,
    minimum_interval_seconds=5,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Launches an embedding run per collection with pending records (one at a time per collection).",
)
def embedding_sensor(context: dg.SensorEvaluationContext, database: DatabaseResource) -> dg.SensorResult:
    with database.session() as session:
        work = queue.collections_with_work(session, claim_timeout_s=_DEFAULTS.claim_timeout_s)
    busy = _collections_being_embedded(context.instance) if work else set()
    now = time.time()
    runs = [
        dg.RunRequest(
            run_key=embed_run_key(w.collection_id, now),
            run_config=embed_run_config(w.tenant_id, w.collection_id),
            tags={TENANT_TAG: str(w.tenant_id), COLLECTION_TAG: str(w.collection_id), **AREA_TAGS},
        )
        for w in work
        if str(w.collection_id) not in busy
    ]
    if not runs:
        reason = "no collection has records waiting for embeddings"
        if work:
            reason = f"{len(work)} collection(s) with pending records already have a run in progress"
        return dg.SensorResult(skip_reason=reason)
    context.log.info("embedding runs for %d collection(s)", len(runs))
    return dg.SensorResult(run_requests=runs)


defs = dg.Definitions(
    jobs=[embed_collection_job],
    sensors=[embedding_sensor],
)
