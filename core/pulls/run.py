"""Run one pull: source rows in, deduplicated records of the connector's collection out.

Transactions: the pull commits in units. The source streams `batch_size`-row batches (never the
whole result in memory); consecutive batches are fed to one `ingest_records` call until a unit
holds at least `commit_rows` rows (default 50,000, or one batch if batches are larger), and each
unit commits on its own. So a long pull's records become searchable while it runs, progress is
visible, and a pull that fails keeps what it committed. Re-ingesting is safe: records are
deduplicated by content hash within the generation, so the next pull, which starts again from the
unchanged watermark, skips the rows already stored (`duplicates_skipped`) and adds the rest.

Watermark: the instant bound to `:last_pull` next time is taken *before* the source is opened and
saved only after the last unit committed, in its own transaction, and never moved backwards. A
source that goes away mid-pull, or any other failure, leaves it unchanged.

Boundary: `:last_pull` is bound to the saved watermark minus `pull_watermark_overlap_s` (default
300 s). A row stamped before the watermark but committed after the pull's snapshot (its transaction
began before the pull), a row stamped at exactly the watermark, and a source clock a little behind
Kariz's are all read again by the next pull instead of being lost. Reading them again is harmless:
with a `key_column` an unchanged row is skipped and a changed one updates its record in place;
without one, identical content is skipped by its hash.

Record identity: with `key_column` the collection is keyed (core/ingestion/keys.py); `deleted_column`
archives the records of rows it marks; `mode = 'mirror'` archives, after a complete full pull (no
`:last_pull` in the query, or the first pull), every active record whose key the pull did not
return. The key and soft-delete columns must be columns of the query's rows (422 before anything is
ingested).

Unit size: each `ingest_records` call costs a fixed amount beyond its rows (staging table, field
catalog, generation counters, the ingestion log row), so committing every 5,000-row batch would
spend a large share of a big pull on bookkeeping; 50,000 rows keeps that small while progress and
resumption stay fine-grained.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

import core.settings
from connectors.base import Batch, Row
from connectors.errors import SourceError, scrub
from connectors.registry import build_connector
from core.db.models import Connector
from core.errors import InvalidInput, KarizError, NotFound
from core.ingestion.naming import choose_name_column
from core.ingestion.pipeline import archive_missing_keys, ingest_records
from core.ingestion.preparation import MAX_ERRORS_REPORTED
from core.pulls.catalog import credential_box
from core.pulls.errors import PullFailed, pull_failure
from core.security.encryption import CredentialBox
from core.security.targets import connector_policy

log = logging.getLogger(__name__)

COMMIT_ROWS = 50_000
SOURCE_TYPE = "connector"


@dataclass(slots=True)
class PullResult:
    """The outcome of a pull; `to_dict()` is the contract's pull result (plus rejected rows)."""

    status: str
    records_pulled: int = 0
    records_ingested: int = 0
    duplicates_skipped: int = 0
    records_rejected: int = 0
    duration_seconds: float = 0.0
    errors: list[dict[str, Any]] = field(default_factory=list)
    # record identity: records_ingested = inserted + updated, duplicates_skipped = rows that changed nothing
    records_inserted: int = 0
    records_updated: int = 0
    records_archived: int = 0
    mirror: str | None = None  # what the mirror step did: "applied", or why it was skipped

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "records_pulled": self.records_pulled,
            "records_ingested": self.records_ingested,
            "duplicates_skipped": self.duplicates_skipped,
            "records_rejected": self.records_rejected,
            "records_inserted": self.records_inserted,
            "records_updated": self.records_updated,
            "records_archived": self.records_archived,
            "mirror": self.mirror,
            "duration_seconds": round(self.duration_seconds, 3),
            "errors": self.errors[:100],
        }


ProgressCallback = Callable[[PullResult], None]


@dataclass(frozen=True, slots=True)
class _Job:
    """What a pull needs from the connector row, read once before the source is opened."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    kind: str
    collection_name: str
    entity_type: str
    query: str
    name_column: str | None
    key_column: str | None
    deleted_column: str | None
    mode: str
    batch_size: int
    watermark: datetime | None
    config_encrypted: str


class _Units:
    """Source batches regrouped into commit units of at least `limit` rows, counting what passes."""

    def __init__(self, batches: Iterator[Batch], limit: int) -> None:
        self._batches = batches
        self._limit = limit
        self.pulled = 0
        self.pending: Batch | None = next(batches, None)

    def next_unit(self) -> Iterator[Row] | None:
        """The rows of the next unit (read lazily from the source), or None when the source is done."""
        if self.pending is None:
            return None
        first, self.pending = self.pending, None
        return self._rows(first)

    def _rows(self, batch: Batch) -> Iterator[Row]:
        taken = 0
        while True:
            self.pulled += len(batch)
            taken += len(batch)
            yield from batch
            following = next(self._batches, None)
            if following is None:
                return
            if taken >= self._limit:
                self.pending = following
                return
            batch = following


def _load(factory: sessionmaker[Session], connector_id: uuid.UUID, tenant_id: uuid.UUID | None) -> _Job:
    with factory() as session:
        row = session.get(Connector, connector_id, with_for_update=True)
        if row is None or (tenant_id is not None and row.tenant_id != tenant_id):
            raise NotFound(f"connector {connector_id} not found")
        job = _Job(
            id=row.id,
            tenant_id=row.tenant_id,
            name=row.name,
            kind=row.connector_type,
            collection_name=row.collection_name,
            entity_type=row.entity_type,
            query=row.query,
            name_column=row.name_column,
            key_column=row.key_column,
            deleted_column=row.deleted_column,
            mode=row.pull_mode or "append",
            batch_size=row.batch_size or 5000,
            watermark=row.last_pull_watermark,
            config_encrypted=row.config_encrypted,
        )
        row.last_status = "running"
        session.commit()
    return job


def _check_name_column(job: _Job, first: Batch | None) -> None:
    if job.name_column is None or not first:
        return
    columns = list(first[0])
    try:
        choose_name_column(columns, first[0], job.name_column)
    except InvalidInput:
        raise pull_failure(
            f"name_column '{job.name_column}' is not a column of the query's rows; "
            f"columns: {', '.join(columns[:50])}",
            code="NAME_COLUMN_MISSING",
            retryable=False,
        ) from None


def _check_identity_columns(job: _Job, first: Batch | None) -> None:
    """The key and soft-delete columns must be columns of the query's rows (422, nothing pulled)."""
    if not first or (job.key_column is None and job.deleted_column is None):
        return
    columns = list(first[0])
    wanted = job.key_column.split(",") if job.key_column else []
    if job.deleted_column:
        wanted.append(job.deleted_column)
    missing = [c for c in wanted if c not in first[0]]
    if missing:
        raise pull_failure(
            f"{', '.join(missing)} not among the query's columns ({', '.join(columns[:50])}); "
            "key_column and deleted_column must name columns the query returns",
            code="KEY_COLUMN_MISSING",
            retryable=False,
        )


def _is_full(job: _Job) -> bool:
    """A pull that reads the whole source: the first one, or a query without `:last_pull`."""
    return job.watermark is None or "last_pull" not in job.query


def _bound_watermark(watermark: datetime | None) -> datetime | None:
    if watermark is None:
        return None
    return watermark - timedelta(seconds=core.settings.get_settings().pull_watermark_overlap_s)


def _as_failure(exc: BaseException, secrets: list[str]) -> PullFailed:
    """`exc` as a PullFailed whose message holds no credentials."""
    if isinstance(exc, PullFailed):
        return exc
    if isinstance(exc, SourceError):
        return pull_failure(scrub(exc.message, secrets), code=exc.code, retryable=exc.retryable)
    if isinstance(exc, KarizError):
        return pull_failure(scrub(exc.message, secrets), code=exc.code, retryable=False)
    # an unexpected error (e.g. the Kariz database went away): worth another attempt
    detail = scrub(f"{type(exc).__name__}: {exc}", secrets)[:500]
    return pull_failure(f"the pull failed: {detail}", code="PULL_FAILED", retryable=True)


def _finish(
    factory: sessionmaker[Session], job: _Job, *, watermark: datetime | None, error: str | None
) -> None:
    values: dict[str, Any] = {"last_status": "failed" if error else "succeeded", "last_error": error}
    if watermark is not None:
        # never backwards: an older pull finishing after a newer one keeps the newer watermark
        values["last_pull_watermark"] = sa.func.greatest(
            sa.func.coalesce(Connector.last_pull_watermark, watermark), watermark
        )
        values["last_pull_at"] = sa.func.now()
    with factory() as session:
        session.execute(sa.update(Connector).where(Connector.id == job.id).values(**values))
        session.commit()


def _mirror(factory: sessionmaker[Session], job: _Job, seen: set[str], result: PullResult) -> str:
    """Archive what a complete full pull did not return; say what was done."""
    if not _is_full(job):
        return "skipped: an incremental pull does not see every row"
    if result.records_rejected:
        return "skipped: rows were rejected, so their records are not known to be gone"
    if not result.records_pulled:
        return "skipped: the source returned no rows"
    with factory() as session:
        archived = archive_missing_keys(
            session, tenant_id=job.tenant_id, collection_name=job.collection_name, keys=seen
        )
        session.commit()
    result.records_archived += archived
    return "applied"


def run_pull(
    engine: sa.Engine,
    connector_id: uuid.UUID | str,
    *,
    tenant_id: uuid.UUID | None = None,
    request_id: uuid.UUID | str | None = None,
    progress: ProgressCallback | None = None,
    box: CredentialBox | None = None,
    commit_rows: int = COMMIT_ROWS,
) -> PullResult:
    """Pull the connector's query into its collection and return the counts.

    Records get the connector's `entity_type`, `source_type` "connector" and `source_name` the
    connector's name; content already in the collection generation is skipped. `progress` is called
    with the running totals after each committed unit. On any failure a `PullFailed` is raised
    (retryable for an unreachable or lost source) whose message holds no credentials; units
    committed before it stay, the watermark does not move. NotFound for an unknown connector (or
    one of another tenant when `tenant_id` is given).
    """
    started = time.perf_counter()
    factory = sessionmaker(engine, expire_on_commit=False)
    job = _load(factory, uuid.UUID(str(connector_id)), tenant_id)
    context = f"connector {job.id} ({job.kind}) of tenant {job.tenant_id}, request {request_id or '-'}"
    result = PullResult(status="running")
    secrets: list[str] = []
    watermark = datetime.now(
        UTC
    )  # before the source is opened: rows committed during the pull come next time
    try:
        config = (box or credential_box()).decrypt(job.config_encrypted)
        source = build_connector(job.kind, config, policy=connector_policy())
        secrets = source.config.secrets()
        log.info("pull of %s from %s since %s", context, source.source, job.watermark)
        batches = source.stream(
            job.query, last_pull=_bound_watermark(job.watermark), batch_size=job.batch_size
        )
        mirror = job.mode == "mirror" and job.key_column is not None
        seen: set[str] | None = set() if mirror else None
        try:
            units = _Units(batches, max(commit_rows, job.batch_size))
            _check_name_column(job, units.pending)
            _check_identity_columns(job, units.pending)
            while (rows := units.next_unit()) is not None:
                with factory() as session:
                    ingested = ingest_records(
                        session,
                        tenant_id=job.tenant_id,
                        collection_name=job.collection_name,
                        records=rows,
                        entity_type=job.entity_type,
                        source_type=SOURCE_TYPE,
                        source_name=job.name,
                        name_column=job.name_column,
                        key_column=job.key_column,
                        deleted_column=job.deleted_column,
                        keep_keys=seen is not None,
                    )
                    session.commit()
                if seen is not None and ingested.keys:
                    seen |= ingested.keys
                result.records_pulled = units.pulled
                result.records_ingested += ingested.accepted
                result.duplicates_skipped += ingested.dedup_skipped
                result.records_rejected += ingested.rejected
                result.records_inserted += ingested.inserted
                result.records_updated += ingested.updated
                result.records_archived += ingested.archived
                room = MAX_ERRORS_REPORTED - len(result.errors)
                if room > 0:
                    result.errors.extend(ingested.errors[:room])
                result.duration_seconds = time.perf_counter() - started
                if progress is not None:
                    progress(result)
        finally:
            close = getattr(batches, "close", None)
            if close is not None:
                close()
        if seen is not None:
            result.mirror = _mirror(factory, job, seen, result)
    except Exception as exc:
        failure = _as_failure(exc, secrets)
        failure.extra.update(
            {
                "records_pulled": result.records_pulled,
                "records_ingested": result.records_ingested,
                "duplicates_skipped": result.duplicates_skipped,
            }
        )
        log.warning("pull of %s failed (%s): %s", context, failure.code, failure.message)
        _finish(factory, job, watermark=None, error=f"{failure.code}: {failure.message}")
        if failure is exc:
            raise
        raise failure from None
    _finish(factory, job, watermark=watermark, error=None)
    result.status = "completed"
    result.duration_seconds = time.perf_counter() - started
    log.info(
        "pull of %s completed: %d pulled, %d ingested, %d duplicates, %d rejected in %.1fs",
        context,
        result.records_pulled,
        result.records_ingested,
        result.duplicates_skipped,
        result.records_rejected,
        result.duration_seconds,
    )
    return result
