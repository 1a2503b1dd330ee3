"""Syncing files into the RAG store: extract, chunk, embed, write chunks and vectors.

One operation (`store_operations` row) is served by one call of `run_operation` (a Dagster run).
Per file, the new chunks replace the old ones in one PostgreSQL transaction, after their vectors
are written; vector ids are listed for cleanup before they are written and old ones in the chunk
transaction (`core.documents.vectors`), so a run killed at any point leaves each file either as it
was (old chunks, still retrievable) or fully synced, and the next run removes any stray vector.
A file whose bytes already synced (same sha256) is skipped. A file that cannot be read fails alone
(`sync_failed` with `details.error_message`); the others go on. A vector index or model that is
down stops the run (the file keeps its old chunks) and fails the operation: retry later.
Runs of one tenant are serialised by an advisory lock.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.db.models import FileChunk, StoredFile, StoreOperation
from core.documents import audit
from core.documents.chunking import Chunk, chunk_document
from core.documents.extraction import extract
from core.documents.formats import detect_type
from core.documents.vectors import drain_cleanup, ensure_store_collection, forget_cleanup, mark_for_cleanup
from core.embeddings.base import EmbeddingProvider
from core.errors import KarizError, Unavailable
from core.files.base import FileStore
from core.vectors.base import VectorIndex

log = logging.getLogger(__name__)
EMBED_BATCH = 64
_CHUNK_NAMESPACE = uuid.UUID("6f1c1f55-9d0e-4d4e-9a51-6b1d2a3c4e5f")


def chunk_id(file_id: uuid.UUID, sha256: str, ordinal: int) -> uuid.UUID:
    """A chunk's id: the same for the same file, bytes and position (a retried sync rewrites it)."""
    return uuid.uuid5(_CHUNK_NAMESPACE, f"{file_id}:{sha256}:{ordinal}")


@dataclass
class SyncReport:
    files: int = 0
    synced: int = 0
    skipped: int = 0
    failed: int = 0
    pages: int = 0
    chunks: int = 0
    vectors_removed: int = 0
    seconds: float = 0.0
    errors: list[dict] = field(default_factory=list)

    @property
    def chunks_per_second(self) -> float:
        return round(self.chunks / self.seconds, 1) if self.seconds else 0.0

    def to_metadata(self) -> dict:
        return {"files": self.files, "synced": self.synced, "skipped": self.skipped, "failed": self.failed,
                "pages": self.pages, "chunks": self.chunks, "chunks_per_second": self.chunks_per_second,
                "vectors_removed": self.vectors_removed, "seconds": round(self.seconds, 2)}


def _now() -> datetime:
    return datetime.now(UTC)


def _lock_key(tenant_id: uuid.UUID) -> int:
    return int.from_bytes(tenant_id.bytes[:8], "big", signed=True) ^ 0x5AFE


def start_operation(session: Session, operation_id: uuid.UUID, run_id: str | None) -> StoreOperation:
    """Mark the operation started by `run_id` (committed)."""
    op = session.get(StoreOperation, operation_id, with_for_update=True)
    if op is None:
        raise KarizError(f"store operation {operation_id} not found")
    op.started_at = op.started_at or _now()
    op.run_id = run_id
    op.status = "in_progress"
    session.commit()
    return op


def run_operation(engine: sa.Engine, operation_id: uuid.UUID, *, provider: EmbeddingProvider, index: VectorIndex,
                  files: FileStore, run_id: str | None = None,
                  on_file: Callable[[StoredFile], None] | None = None) -> SyncReport:
    """Serve a store operation: sync each of its files; the operation ends completed (even when some
    files failed alone: they are counted) or failed (the run stopped: store or model unavailable)."""
    started = time.perf_counter()
    report = SyncReport()
    with engine.connect() as lock_conn, Session(engine, expire_on_commit=False) as session:
        op = start_operation(session, operation_id, run_id)
        tenant_id = op.tenant_id
        lock_conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": _lock_key(tenant_id)})
        try:
            report.vectors_removed += drain_cleanup(session, tenant_id, index)
            session.commit()
            for file_id in op.file_ids:
                stored = session.get(StoredFile, file_id, populate_existing=True)
                if stored is None or stored.tenant_id != tenant_id or not stored.in_store:
                    _advance(session, op, skipped=True)
                    report.skipped += 1
                    continue
                report.files += 1
                if on_file is not None:
                    on_file(stored)
                _sync_file(session, op, stored, provider=provider, index=index, files=files, report=report)
                report.vectors_removed += drain_cleanup(session, tenant_id, index)
                session.commit()
            op.status = "completed"
            op.current_file_id = None
            op.current_file_name = None
            op.finished_at = _now()
            session.commit()
        except BaseException as exc:
            session.rollback()
            abandon_operation(session, operation_id, _reason(exc))
            raise
        finally:
            lock_conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": _lock_key(tenant_id)})
            lock_conn.commit()
    report.seconds = time.perf_counter() - started
    return report


def abandon_operation(session: Session, operation_id: uuid.UUID, error: str) -> None:
    """Fail an operation whose run stopped; its files still syncing go back to what they were."""
    op = session.get(StoreOperation, operation_id, populate_existing=True)
    if op is None or op.status != "in_progress":
        return
    op.status = "failed"
    op.error = error[:2000]
    op.finished_at = _now()
    session.execute(
        sa.update(StoredFile)
        .where(StoredFile.id.in_(op.file_ids), StoredFile.status.in_(("syncing", "pending")))
        .values(status=sa.case((StoredFile.synced_sha256.is_not(None), "active"), else_="pending"))
    )
    session.commit()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, KarizError):
        return exc.message
    return f"{type(exc).__name__}: the run stopped"


def _advance(session: Session, op: StoreOperation, *, failed: bool = False, skipped: bool = False,
             chunks: int = 0, pages: int = 0) -> None:
    op.processed += 1
    op.failed += int(failed)
    op.skipped += int(skipped)
    op.chunks += chunks
    op.pages += pages
    session.commit()


def _sync_file(session: Session, op: StoreOperation, stored: StoredFile, *, provider: EmbeddingProvider,
               index: VectorIndex, files: FileStore, report: SyncReport) -> None:
    tenant_id = stored.tenant_id
    if stored.status == "active" and stored.synced_sha256 == stored.sha256 and op.kind != "resync":
        audit.record_event(session, tenant_id, audit.SYNC_COMPLETED, asset_id=stored.id, account_id=stored.account_id,
                           operation_id=op.id, details={"skipped": True, "reason": "unchanged (same sha256)"})
        _advance(session, op, skipped=True)
        report.skipped += 1
        return
    previous_status = stored.status
    stored.status = "syncing"
    op.current_file_id = stored.id
    op.current_file_name = stored.name
    audit.record_event(session, tenant_id, audit.SYNC_STARTED, asset_id=stored.id, account_id=stored.account_id,
                       operation_id=op.id, details={"name": stored.name})
    session.commit()
    try:
        data = files.get(stored.storage_key)
        kind = detect_type(data, stored.name).kind
        document = extract(kind, data)
        chunks = chunk_document(document)
        if not chunks:
            raise KarizError("the document yielded no text to index")
    except Unavailable:
        stored.status = previous_status if previous_status != "syncing" else "pending"
        session.commit()
        raise
    except KarizError as exc:
        _fail_file(session, op, stored, exc.message, report)
        return
    except Exception as exc:  # a parser's unexpected error: this file fails, the run goes on
        log.warning("store sync of file %s (tenant %s) failed: %r", stored.id, tenant_id, exc)
        _fail_file(session, op, stored, f"the file could not be read ({type(exc).__name__})", report)
        return
    ids = [chunk_id(stored.id, stored.sha256, c.ordinal) for c in chunks]
    # listed before written: a run killed before the chunk transaction leaves no unlisted vector
    mark_for_cleanup(session, tenant_id, ids)
    session.commit()
    _write_vectors(index, provider, stored, chunks, ids)
    _replace_chunks(session, stored, chunks, ids, pages=document.page_count, title=document.title)
    audit.record_event(session, tenant_id, audit.SYNC_COMPLETED, asset_id=stored.id, account_id=stored.account_id,
                       operation_id=op.id, details={"chunks": len(chunks), "pages": document.page_count})
    _advance(session, op, chunks=len(chunks), pages=document.page_count or 1)
    report.synced += 1
    report.chunks += len(chunks)
    report.pages += document.page_count or 1


def _write_vectors(index: VectorIndex, provider: EmbeddingProvider, stored: StoredFile, chunks: list[Chunk],
                   ids: list[uuid.UUID]) -> None:
    name = ensure_store_collection(index, stored.tenant_id, provider.dimension)
    payload = {"file_id": str(stored.id), "account_id": str(stored.account_id)}
    for start in range(0, len(chunks), EMBED_BATCH):
        batch = chunks[start : start + EMBED_BATCH]
        vectors = provider.embed([c.text for c in batch])
        index.upsert(name, ids[start : start + EMBED_BATCH], vectors,
                     [{**payload, "page": c.page} for c in batch])


def _replace_chunks(session: Session, stored: StoredFile, chunks: list[Chunk], ids: list[uuid.UUID], *,
                    pages: int | None, title: str | None) -> None:
    """Old chunks out, new chunks in, the file active: one transaction."""
    old = list(session.execute(
        sa.delete(FileChunk).where(FileChunk.file_id == stored.id).returning(FileChunk.id)
    ).scalars())
    new = set(ids)
    mark_for_cleanup(session, stored.tenant_id, [i for i in old if i not in new])
    session.execute(sa.insert(FileChunk), [
        {"id": i, "tenant_id": stored.tenant_id, "file_id": stored.id, "ordinal": c.ordinal, "page": c.page,
         "text": c.text, "tokens": c.tokens}
        for i, c in zip(ids, chunks, strict=True)
    ])
    forget_cleanup(session, ids)
    stored.status = "active"
    stored.synced_sha256 = stored.sha256
    stored.synced_at = _now()
    stored.chunk_count = len(chunks)
    stored.pages = pages
    stored.title = title  # the document's own (a changed file that lost its title has none)
    stored.error = None
    session.commit()


def _fail_file(session: Session, op: StoreOperation, stored: StoredFile, message: str, report: SyncReport) -> None:
    stored.status = "failed"
    stored.error = message[:2000]
    audit.record_event(session, stored.tenant_id, audit.SYNC_FAILED, asset_id=stored.id,
                       account_id=stored.account_id, operation_id=op.id,
                       details={"error_message": message[:2000], "name": stored.name})
    _advance(session, op, failed=True)
    report.failed += 1
    report.errors.append({"fileId": str(stored.id), "error": message[:500]})
