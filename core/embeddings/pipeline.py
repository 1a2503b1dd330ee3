"""The embedding pipeline: pending records of one collection -> vectors in its generations' vector
collections -> `indexed` (or `failed`, with the reason).

`run_embedding_pipeline` drains a collection's live generations (active first, then staging) batch
by batch: claim (`core.embeddings.queue`), build each record's text (`build_embedding_text`), embed,
upsert the vectors with their payloads (`build_point_payload`, so filters work inside vector
searches) into the generation's own vector collection (created when missing), then mark the batch
indexed. Storing batch N runs on a writer thread while batch N+1 is embedded, so the model (the
bottleneck on CPU) rarely waits for the vector store.

Failures, by kind:
- the provider refuses an input (`InvalidInput`): the batch is split until the one bad record is
  found; it fails at once with the provider's reason, the others go on;
- the provider is unavailable (`Unavailable`): the batch is rescheduled with exponential backoff,
  records out of attempts fail with the reason, and the run stops (the next run resumes);
- the vector store is unreachable: the batch goes back to pending untried (the attempt is not
  counted) and the run stops; if PostgreSQL itself is gone, the rows stay `processing` and the next
  run reclaims them after the claim timeout. Nothing is lost either way.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sqlalchemy as sa

from core.embeddings import queue
from core.embeddings.base import EmbeddingProvider
from core.embeddings.text import build_embedding_text
from core.errors import InvalidInput, KarizError, NotFound, Unavailable
from core.records.searchable import bump_search_version
from core.vectors.base import VectorIndex, vector_alias_name, vector_collection_name
from core.vectors.payloads import build_point_payload

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PipelineOptions:
    """How a run claims, retries and stores; the defaults suit the local model on a small machine."""

    #: records per claim, per model call and per upsert
    batch_size: int = 128
    #: attempts (claims) a record gets before a transient failure marks it failed
    max_attempts: int = 5
    #: first retry delay after a transient failure; doubles per attempt up to `retry_max_s`
    retry_base_s: float = 30.0
    retry_max_s: float = 3600.0
    #: a `processing` claim older than this belongs to a run that died and is taken again
    claim_timeout_s: float = 600.0
    #: records handed back after a vector-store outage are due again after this long
    store_retry_s: float = 30.0
    #: a new vector collection for a backlog at least this big is filled first and indexed after
    #: (pgvector: building HNSW over a full table is several times faster than growing it per row)
    defer_index_backlog: int = 5_000
    #: stop claiming after this many records (None: drain the collection)
    max_records: int | None = None


@dataclass(slots=True)
class PipelineReport:
    """What one run did to one collection; `to_metadata()` is what Dagster shows."""

    tenant_id: uuid.UUID
    collection_id: uuid.UUID
    collection: str
    generations: list[int] = field(default_factory=list)
    claimed: int = 0
    indexed: int = 0
    failed: int = 0
    retried: int = 0
    released: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0
    stopped: str | None = None
    indexes_built: list[int] = field(default_factory=list)
    counts: dict[int, dict[str, int]] = field(default_factory=dict)

    @property
    def texts_per_s(self) -> float:
        """Records taken from pending to indexed per second of the run."""
        return self.indexed / self.seconds if self.seconds > 0 else 0.0

    def to_metadata(self) -> dict[str, Any]:
        """Flat, JSON-safe figures: claimed/indexed/failed, texts/s, the queue by status."""
        totals = dict.fromkeys(("pending", "processing", "indexed", "failed", "queue_depth"), 0)
        for counts in self.counts.values():
            for key in totals:
                totals[key] += counts.get(key, 0)
        return {
            "tenant_id": str(self.tenant_id),
            "collection_id": str(self.collection_id),
            "collection": self.collection,
            "generations": list(self.generations),
            "records_claimed": self.claimed,
            "records_indexed": self.indexed,
            "records_failed": self.failed,
            "records_retried": self.retried,
            "records_released": self.released,
            "texts_per_s": round(self.texts_per_s, 1),
            "seconds": round(self.seconds, 3),
            "embed_seconds": round(self.embed_seconds, 3),
            "stopped": self.stopped,
            "indexes_built": list(self.indexes_built),
            "queue_depth": totals.pop("queue_depth"),
            **{f"queue_{key}": value for key, value in totals.items()},
        }


class _StopRun(Exception):
    """The run cannot go on (the store is gone); its claims were handed back."""


def embedding_texts(records: Sequence[queue.ClaimedRecord]) -> list[str]:
    """The text embedded for each record (`build_embedding_text`), in order."""
    return [
        build_embedding_text(r.name, r.record_type, r.description_llm, r.collection_data) for r in records
    ]


def embed_isolating_bad_inputs(
    provider: EmbeddingProvider, texts: Sequence[str]
) -> tuple[np.ndarray, dict[int, str]]:
    """Vectors for `texts` and, for inputs the provider refuses (`InvalidInput`), the reason by
    position (their rows are zeros). A refused batch is halved until the refused texts are alone,
    so one bad record never fails its neighbours. `Unavailable` propagates."""
    out = np.zeros((len(texts), provider.dimension), dtype=np.float32)
    errors: dict[int, str] = {}

    def embed(start: int, stop: int) -> None:
        try:
            out[start:stop] = provider.embed(list(texts[start:stop]))
        except InvalidInput as exc:
            if stop - start == 1:
                errors[start] = exc.message
                return
            middle = (start + stop) // 2
            embed(start, middle)
            embed(middle, stop)

    if texts:
        embed(0, len(texts))
    return out, errors


def _store_error(exc: Exception) -> str:
    return f"vector store unavailable: {exc}"


class _Run:
    """One pipeline run over one collection (state shared by the main and the writer thread)."""

    def __init__(
        self,
        engine: sa.Engine,
        info: queue.CollectionInfo,
        provider: EmbeddingProvider,
        index: VectorIndex,
        options: PipelineOptions,
    ) -> None:
        self.engine = engine
        self.info = info
        self.provider = provider
        self.index = index
        self.options = options
        self.report = PipelineReport(info.tenant_id, info.id, info.name)

    # --- the vector collection -------------------------------------------------------------------

    def ensure_vector_collection(self, generation: int) -> str:
        """The generation's vector collection (created when missing); the active generation's alias
        is set when the collection has none yet."""
        name = vector_collection_name(self.info.tenant_id, self.info.id, generation)
        if not self.index.collection_exists(name):
            with self.engine.connect() as conn:
                waiting = queue.backlog(conn, self.info.id, generation, cap=self.options.defer_index_backlog)
            defer = waiting >= self.options.defer_index_backlog
            self.index.create_collection(name, int(self.provider.dimension), defer_index=defer)
            log.info(
                "tenant %s collection %s: created vector collection %s for generation %d%s",
                self.info.tenant_id,
                self.info.name,
                name,
                generation,
                " (index deferred)" if defer else "",
            )
        if generation == self.info.active_generation:
            self._ensure_alias(name, generation)
        return name

    def _ensure_alias(self, name: str, generation: int) -> None:
        alias = vector_alias_name(self.info.tenant_id, self.info.id)
        if self.index.resolve_alias(alias) is not None:
            return
        # FOR SHARE holds off a swap (FOR UPDATE) while the alias is set, so a generation that stopped
        # being active meanwhile never gets the alias
        with self.engine.begin() as conn:
            active = conn.execute(
                sa.text("SELECT active_generation FROM collections WHERE id = :c FOR SHARE"),
                {"c": self.info.id},
            ).scalar()
            if active == generation and self.index.resolve_alias(alias) is None:
                # the store's own transaction: a pgvector index may live in another database
                self.index.swap_alias(alias, name)

    # --- one generation --------------------------------------------------------------------------

    def drain(self, generation: int) -> None:
        """Embed every claimable record of one generation (within the run's budget)."""
        options = self.options
        with self.engine.begin() as conn:
            exhausted = queue.fail_exhausted_claims(
                conn,
                self.info.id,
                generation,
                claim_timeout_s=options.claim_timeout_s,
                max_attempts=options.max_attempts,
            )
        self.report.failed += exhausted
        with self.engine.connect() as conn:
            if not queue.has_claimable(
                conn, self.info.id, generation, claim_timeout_s=options.claim_timeout_s
            ):
                return
        target = self.ensure_vector_collection(generation)
        writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed-store")
        storing: tuple[queue.Claim, Future[None]] | None = None
        try:
            while options.max_records is None or self.report.claimed < options.max_records:
                limit = options.batch_size
                if options.max_records is not None:
                    limit = min(limit, options.max_records - self.report.claimed)
                with self.engine.begin() as conn:
                    claim = queue.claim_batch(
                        conn,
                        self.info.tenant_id,
                        self.info.id,
                        generation,
                        limit=limit,
                        claim_timeout_s=options.claim_timeout_s,
                    )
                if claim is None:
                    break
                self.report.claimed += len(claim.records)
                try:
                    vectors, errors = self.embed(claim)
                except Unavailable as exc:
                    self._wait(storing, claim)
                    storing = None
                    self.reschedule(claim, f"embedding provider unavailable: {exc.message}")
                    self.report.stopped = f"embedding provider unavailable: {exc.message}"
                    return
                except BaseException as exc:
                    self._wait(storing, claim)
                    storing = None
                    self.reschedule(claim, f"embedding failed: {type(exc).__name__}: {exc}")
                    raise
                self._wait(storing, claim)
                storing = (claim, writer.submit(self.store, target, claim, vectors, errors))
            self._wait(storing, None)
            storing = None
        except _StopRun:
            return
        finally:
            if storing is not None:  # leaving on an error: let the last write settle before returning
                with contextlib.suppress(_StopRun):
                    self._wait(storing, None)
            writer.shutdown(wait=True)
        self.finish_index(generation, target)

    def embed(self, claim: queue.Claim) -> tuple[np.ndarray, dict[int, str]]:
        started = time.perf_counter()
        try:
            return embed_isolating_bad_inputs(self.provider, embedding_texts(claim.records))
        finally:
            self.report.embed_seconds += time.perf_counter() - started

    def _wait(self, storing: tuple[queue.Claim, Future[None]] | None, current: queue.Claim | None) -> None:
        """Wait for the write in flight; if the store failed, hand `current` back too and stop."""
        if storing is None:
            return
        _, future = storing
        try:
            future.result()
        except _StopRun:
            if current is not None:
                self.release(current, self.report.stopped or "vector store unavailable")
            raise

    def store(self, target: str, claim: queue.Claim, vectors: np.ndarray, errors: dict[int, str]) -> None:
        """Upsert the batch's vectors, then mark it indexed (and refused records failed)."""
        # archived records (updated-away keys, soft and mirror deletes) lose their vectors instead
        gone = [r.id for r in claim.records if r.status == "archived"]
        keep = [i for i, r in enumerate(claim.records) if i not in errors and r.status != "archived"]
        records = [claim.records[i] for i in keep]
        payloads = [
            build_point_payload(
                tenant_id=self.info.tenant_id,
                collection=self.info.name,
                generation=claim.generation,
                record_type=r.record_type,
                status=r.status,
                collection_data=r.collection_data,
            )
            for r in records
        ]
        try:
            if records:
                self.index.upsert(target, [r.id for r in records], vectors[keep], payloads)
            if gone:
                self.index.delete(target, gone)
        except (Unavailable, NotFound) as exc:
            # NotFound: the generation's vector collection was dropped (a cancelled replace)
            reason = _store_error(exc) if isinstance(exc, Unavailable) else f"vector collection gone: {exc}"
            self.report.stopped = reason
            self.release(claim, reason)
            raise _StopRun(reason) from exc
        except BaseException as exc:
            self.reschedule(claim, f"storing vectors failed: {type(exc).__name__}: {exc}")
            raise
        with self.engine.begin() as conn:
            # an archived record is `indexed` once its vector is gone: the index agrees with it
            self.report.indexed += queue.mark_indexed(conn, claim, [r.id for r in records] + gone)
            self.report.failed += queue.mark_failed(
                conn, claim, {claim.records[i].id: reason for i, reason in errors.items()}
            )
            if claim.generation == self.info.active_generation:
                bump_search_version(conn, self.info.id)  # cached fulltext-only answers are stale now

    # --- handing claims back ---------------------------------------------------------------------

    def reschedule(self, claim: queue.Claim, reason: str) -> None:
        options = self.options
        try:
            with self.engine.begin() as conn:
                retried, failed = queue.reschedule(
                    conn,
                    claim,
                    reason,
                    max_attempts=options.max_attempts,
                    retry_base_s=options.retry_base_s,
                    retry_max_s=options.retry_max_s,
                )
        except (sa.exc.SQLAlchemyError, KarizError):
            log.exception("could not reschedule %d records; the claim timeout frees them", len(claim.records))
            return
        self.report.retried += retried
        self.report.failed += failed

    def release(self, claim: queue.Claim, reason: str) -> None:
        try:
            with self.engine.begin() as conn:
                self.report.released += queue.release(conn, claim, reason, delay_s=self.options.store_retry_s)
        except (sa.exc.SQLAlchemyError, KarizError):
            log.exception("could not release %d records; the claim timeout frees them", len(claim.records))

    def finish_index(self, generation: int, target: str) -> None:
        """Build a deferred ANN index once the generation has nothing left to embed."""
        if self.index.index_ready(target):
            return
        with self.engine.connect() as conn:
            if queue.has_unfinished(conn, self.info.id, generation):
                return
        if self.index.build_index(target):
            self.report.indexes_built.append(generation)


def run_embedding_pipeline(
    engine: sa.Engine,
    tenant_id: uuid.UUID,
    collection_id: uuid.UUID,
    *,
    provider: EmbeddingProvider,
    index: VectorIndex,
    options: PipelineOptions | None = None,
) -> PipelineReport:
    """Embed the claimable records of a tenant's collection (active generation, then staging) and
    report what happened. Returns normally when the provider or the vector store is unavailable
    (`report.stopped` says why; the records wait for the next run). NotFound for a collection that
    is not the tenant's. Safe to run concurrently with other runs on the same collection."""
    options = options or PipelineOptions()
    started = time.perf_counter()
    with engine.connect() as conn:
        info = queue.collection_info(conn, tenant_id, collection_id)
    run = _Run(engine, info, provider, index, options)
    report = run.report
    report.generations = info.live_generations
    try:
        for generation in info.live_generations:
            run.drain(generation)
            if report.stopped:
                break
    except Unavailable as exc:  # the store failed outside a batch (creating its collection, the alias)
        report.stopped = _store_error(exc)
    finally:
        report.seconds = time.perf_counter() - started
    try:
        with engine.connect() as conn:
            report.counts = {
                g: queue.queue_counts(conn, tenant_id, collection_id, g) for g in info.live_generations
            }
    except sa.exc.SQLAlchemyError:
        log.warning("could not count the embedding queue of %s", info.name)
    log.info(
        "tenant %s collection %s: embedded %d of %d claimed (%d failed, %d retried, %d released) in %.1f s%s",
        tenant_id,
        info.name,
        report.indexed,
        report.claimed,
        report.failed,
        report.retried,
        report.released,
        report.seconds,
        f"; stopped: {report.stopped}" if report.stopped else "",
    )
    return report
