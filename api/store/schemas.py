"""Bodies and views of the RAG store routes (camelCase, inside `{"success": true, "data": ...}`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec

from api.envelopes import Envelope, Page, named
from core.db.models import StoredFile, StoreOperation
from core.documents.retrieval import RetrievedChunk
from core.documents.store import StoreSummary


class AssetIdsBody(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    asset_ids: list[uuid.UUID]


class RefreshBody(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    asset_ids: list[uuid.UUID] | None = None


class ActionsBody(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    action: str
    file_ids: list[uuid.UUID]


class QueryBody(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    query: str
    account_id: uuid.UUID | None = None
    file_ids: list[uuid.UUID] | None = None
    limit: int = 8


class Counts(msgspec.Struct, rename="camel"):
    total: int
    active: int
    excluded: int
    pending: int
    syncing: int
    failed: int


class Storage(msgspec.Struct, rename="camel"):
    used_bytes: int
    quota_bytes: int
    percent_used: float


class LastSync(msgspec.Struct, rename="camel"):
    operation_id: str
    status: str
    started_at: datetime | None
    finished_at: datetime | None


class StoreFileView(msgspec.Struct, rename="camel"):
    id: str
    account_id: str
    name: str
    status: str
    chunks: int
    pages: int | None
    size_bytes: int
    synced_at: datetime | None
    error: str | None


class StoreView(msgspec.Struct, rename="camel"):
    tenant_id: str
    counts: Counts
    storage: Storage
    chunks: int
    last_sync: LastSync | None
    files: list[StoreFileView]


StoreResponse = named(Envelope[StoreView], "StoreResponse")


class OperationView(msgspec.Struct, rename="camel"):
    operation_id: str
    status: str
    total: int


OperationResponse = named(Envelope[OperationView], "OperationResponse")


class CurrentFile(msgspec.Struct, rename="camel"):
    id: str
    name: str | None


class ProgressView(msgspec.Struct, rename="camel"):
    status: str
    operation_id: str | None
    percent: float
    processed: int
    total: int
    failed: int
    eta_seconds: float | None
    current_file: CurrentFile | None
    started_at: datetime | None
    finished_at: datetime | None


ProgressResponse = named(Envelope[ProgressView], "ProgressResponse")


class RefreshView(msgspec.Struct, rename="camel"):
    checked: int
    changed: int
    operation_id: str | None


RefreshResponse = named(Envelope[RefreshView], "RefreshResponse")


class ActionResultView(msgspec.Struct, rename="camel"):
    file_id: str
    ok: bool
    error: str | None


class ActionsView(msgspec.Struct, rename="camel"):
    results: list[ActionResultView]
    operation_id: str | None = None


ActionsResponse = named(Envelope[ActionsView], "ActionsResponse")


class AuditEventView(msgspec.Struct, rename="camel"):
    id: int
    event: str
    asset_id: str | None
    account_id: str | None
    operation_id: str | None
    at: datetime
    details: dict[str, Any]


AuditResponse = named(Page[AuditEventView], "AuditResponse")


class ChunkView(msgspec.Struct, rename="camel"):
    chunk_id: str
    file_id: str
    file_name: str
    account_id: str | None
    page: int | None
    text: str
    score: float


class QueryView(msgspec.Struct, rename="camel"):
    query: str
    results: list[ChunkView]


QueryResponse = named(Envelope[QueryView], "QueryResponse")


def _last_sync(op: StoreOperation | None) -> LastSync | None:
    if op is None:
        return None
    return LastSync(operation_id=str(op.id), status=op.status, started_at=op.started_at, finished_at=op.finished_at)


def _store_file(f: StoredFile) -> StoreFileView:
    return StoreFileView(id=str(f.id), account_id=str(f.account_id), name=f.name, status=f.store_status,
                         chunks=f.chunk_count, pages=f.pages, size_bytes=f.size_bytes, synced_at=f.synced_at,
                         error=f.error)


def store_view(s: StoreSummary) -> StoreView:
    c = s.counts
    percent = round(100.0 * s.used_bytes / s.quota_bytes, 2) if s.quota_bytes else 0.0
    return StoreView(
        tenant_id=str(s.tenant_id),
        counts=Counts(total=c.total, active=c.active, excluded=c.excluded, pending=c.pending, syncing=c.syncing,
                      failed=c.failed),
        storage=Storage(used_bytes=s.used_bytes, quota_bytes=s.quota_bytes, percent_used=percent),
        chunks=s.chunks, last_sync=_last_sync(s.last_sync), files=[_store_file(f) for f in s.files],
    )


def progress_view(op: StoreOperation | None, now: datetime, *, hide_current_file: bool = False) -> ProgressView:
    if op is None:
        return ProgressView(status="idle", operation_id=None, percent=0.0, processed=0, total=0, failed=0,
                            eta_seconds=None, current_file=None, started_at=None, finished_at=None)
    status = op.status
    if status == "completed" and op.failed and op.failed == op.total:
        status = "failed"
    percent = round(100.0 * op.processed / op.total, 1) if op.total else 100.0
    eta = None
    if status == "in_progress" and op.started_at and op.processed:
        elapsed = (now - op.started_at).total_seconds()
        eta = round(elapsed / op.processed * (op.total - op.processed), 1)
    current = (CurrentFile(id=str(op.current_file_id), name=op.current_file_name)
               if op.current_file_id and status == "in_progress" and not hide_current_file else None)
    return ProgressView(status=status, operation_id=str(op.id), percent=percent, processed=op.processed,
                        total=op.total, failed=op.failed, eta_seconds=eta, current_file=current,
                        started_at=op.started_at, finished_at=op.finished_at)


def chunk_view(c: RetrievedChunk) -> ChunkView:
    return ChunkView(chunk_id=c.chunk_id, file_id=c.file_id, file_name=c.file_name, account_id=c.account_id,
                     page=c.page, text=c.text, score=c.score)
