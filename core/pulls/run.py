"""Run one pull: source rows in, deduplicated records of the connector's vertical out.

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
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from connectors.base import Batch, Row
from connectors.errors import SourceError, scrub
from connectors.registry import build_connector
from core.db.models import Connector
from core.errors import InvalidInput, KarizError, NotFound
from core.ingestion.naming import choose_name_column
from core.ingestion.pipeline import MAX_ERRORS_REPORTED, ingest_records
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "records_pulled": self.records_pulled,
            "records_ingested": self.records_ingested,
            "duplicates_skipped": self.duplicates_skipped,
            "records_rejected": self.records_rejected,
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
    vertical: str
    entity_type: str
    query: str
    name_column: str | None
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
            vertical=row.vertical,
            entity_type=row.entity_type,
            query=row.query,
            name_column=row.name_column,
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
    """Pull the connector's query into its vertical and return the counts.

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
        batches = source.stream(job.query, last_pull=job.watermark, batch_size=job.batch_size)
        try:
            units = _Units(batches, max(commit_rows, job.batch_size))
            _check_name_column(job, units.pending)
            while (rows := units.next_unit()) is not None:
                with factory() as session:
                    ingested = ingest_records(
                        session,
                        tenant_id=job.tenant_id,
                        collection_name=job.vertical,
                        records=rows,
                        entity_type=job.entity_type,
                        source_type=SOURCE_TYPE,
                        source_name=job.name,
                        name_column=job.name_column,
                    )
                    session.commit()
                result.records_pulled = units.pulled
                result.records_ingested += ingested.accepted
                result.duplicates_skipped += ingested.dedup_skipped
                result.records_rejected += ingested.rejected
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
