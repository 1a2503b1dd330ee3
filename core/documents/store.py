"""The RAG store of a tenant: what it holds, the operations that fill it, and per-file actions.

`queue_operation` writes a `store_operations` row that a Dagster run serves (`core.documents.sync`);
the API answers at once with the operation's id. Every function takes a session and does not commit.
Where a function takes `account_id`, it sees only that account's files (a member's or viewer's
credential): another account's file is treated exactly as an unknown id.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.db.models import FileChunk, StoredFile, StoreOperation, Tenant
from core.documents import audit
from core.documents.extraction import read_info
from core.documents.formats import detect_type
from core.documents.vault import drop_chunks, used_bytes
from core.errors import InvalidInput, KarizError, NotFound
from core.files.base import FileStore

MAX_IDS = 1000
ACTIONS = ("exclude", "include", "delete", "resync")


@dataclass(frozen=True)
class StoreCounts:
    total: int
    active: int
    excluded: int
    pending: int
    syncing: int
    failed: int


@dataclass(frozen=True)
class StoreSummary:
    tenant_id: uuid.UUID
    counts: StoreCounts
    used_bytes: int
    quota_bytes: int
    chunks: int
    last_sync: StoreOperation | None
    files: list[StoredFile]


@dataclass(frozen=True)
class ActionResult:
    file_id: uuid.UUID
    ok: bool
    error: str | None = None


def _check_ids(ids: Sequence[uuid.UUID], what: str = "assetIds") -> list[uuid.UUID]:
    unique = list(dict.fromkeys(ids))
    if not unique:
        raise InvalidInput(f"{what} must name at least one file")
    if len(unique) > MAX_IDS:
        raise InvalidInput(f"{what} may name at most {MAX_IDS} files")
    return unique


def _visible(tenant_id: uuid.UUID, account_id: uuid.UUID | None) -> list[sa.ColumnElement[bool]]:
    where = [StoredFile.tenant_id == tenant_id]
    if account_id is not None:
        where.append(StoredFile.account_id == account_id)
    return where


def tenant_files(session: Session, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID], *,
                 account_id: uuid.UUID | None = None) -> dict[uuid.UUID, StoredFile]:
    """The tenant's files (of `account_id` when given) among `ids`; others are absent from the result."""
    rows = session.execute(
        sa.select(StoredFile).where(*_visible(tenant_id, account_id), StoredFile.id.in_(list(ids)))
    ).scalars()
    return {f.id: f for f in rows}


def queue_operation(session: Session, tenant_id: uuid.UUID, file_ids: Sequence[uuid.UUID], *,
                    kind: str = "sync", account_id: uuid.UUID | None = None) -> StoreOperation:
    """Queue a sync (or resync/refresh/backfill) of the tenant's files; NotFound listing every id that is
    not the tenant's (or `account_id`'s), and then nothing is queued."""
    ids = _check_ids(file_ids)
    found = tenant_files(session, tenant_id, ids, account_id=account_id)
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise NotFound(f"unknown asset ids: {', '.join(missing)}", extra={"missing": missing})
    for stored in found.values():
        stored.in_store = True
        if stored.status != "syncing":
            stored.status = "pending" if (kind == "resync" or stored.status != "active"
                                          or stored.synced_sha256 != stored.sha256) else stored.status
    op = StoreOperation(id=uuid.uuid4(), tenant_id=tenant_id, kind=kind, status="in_progress", file_ids=ids,
                        total=len(ids), processed=0, failed=0, skipped=0, chunks=0, pages=0)
    session.add(op)
    session.flush()
    return op


def queued_operations(session: Session, limit: int = 100) -> list[StoreOperation]:
    """Operations no run has started yet, oldest first (the sensor's input)."""
    return list(session.execute(
        sa.select(StoreOperation)
        .where(StoreOperation.status == "in_progress", StoreOperation.started_at.is_(None))
        .order_by(StoreOperation.created_at).limit(limit)
    ).scalars())


def latest_operation(session: Session, tenant_id: uuid.UUID, *,
                     account_id: uuid.UUID | None = None) -> StoreOperation | None:
    """The tenant's newest operation (the one progress reports); with `account_id`, the newest that
    holds one of that account's files."""
    statement = sa.select(StoreOperation).where(StoreOperation.tenant_id == tenant_id)
    if account_id is not None:
        own = sa.select(StoredFile.id).where(*_visible(tenant_id, account_id))
        statement = statement.where(StoreOperation.file_ids.overlap(sa.func.array(own.scalar_subquery())))
    return session.execute(statement.order_by(StoreOperation.created_at.desc()).limit(1)).scalar_one_or_none()


def summary(session: Session, tenant_id: uuid.UUID, *, account_id: uuid.UUID | None = None,
            max_files: int = 1000) -> StoreSummary:
    """Counts, storage, chunks, the last sync and the files in the store (of `account_id` when given;
    storage is the tenant's, since the quota is)."""
    visible = _visible(tenant_id, account_id)
    state = sa.case((StoredFile.excluded, "excluded"), else_=StoredFile.status)
    counts = dict(session.execute(
        sa.select(state, sa.func.count()).where(*visible, StoredFile.in_store).group_by(state)
    ).all())
    chunks = session.execute(
        sa.select(sa.func.count()).select_from(FileChunk).join(StoredFile, StoredFile.id == FileChunk.file_id)
        .where(FileChunk.tenant_id == tenant_id, *visible, StoredFile.in_store)
    ).scalar_one()
    files = list(session.execute(
        sa.select(StoredFile).where(*visible, StoredFile.in_store)
        .order_by(StoredFile.created_at.desc(), StoredFile.id).limit(max_files)
    ).scalars())
    quota = session.execute(sa.select(Tenant.storage_limit_bytes).where(Tenant.id == tenant_id)).scalar_one()
    return StoreSummary(
        tenant_id=tenant_id,
        counts=StoreCounts(
            total=sum(counts.values()), active=counts.get("active", 0), excluded=counts.get("excluded", 0),
            pending=counts.get("pending", 0), syncing=counts.get("syncing", 0), failed=counts.get("failed", 0),
        ),
        used_bytes=used_bytes(session, tenant_id), quota_bytes=quota, chunks=chunks,
        last_sync=latest_operation(session, tenant_id, account_id=account_id), files=files,
    )


def apply_action(session: Session, tenant_id: uuid.UUID, action: str, file_ids: Sequence[uuid.UUID], *,
                 account_id: uuid.UUID | None = None) -> tuple[list[ActionResult], StoreOperation | None]:
    """Exclude, include, delete (from the store: chunks and vectors go, the vault keeps the file) or
    resync each file; a file that is not the tenant's (or `account_id`'s), or not in the store, fails alone."""
    if action not in ACTIONS:
        raise InvalidInput(f"action must be one of {', '.join(ACTIONS)}")
    ids = _check_ids(file_ids, "fileIds")
    found = tenant_files(session, tenant_id, ids, account_id=account_id)
    results: list[ActionResult] = []
    resync: list[uuid.UUID] = []
    for file_id in ids:
        stored = found.get(file_id)
        if stored is None:
            results.append(ActionResult(file_id, False, "not found"))
            continue
        if action != "resync" and not stored.in_store:
            results.append(ActionResult(file_id, False, "not in the store"))
            continue
        if action == "exclude":
            stored.excluded = True
            audit.record_event(session, tenant_id, audit.FILE_EXCLUDED, asset_id=file_id, account_id=stored.account_id)
        elif action == "include":
            stored.excluded = False
            audit.record_event(session, tenant_id, audit.FILE_INCLUDED, asset_id=file_id, account_id=stored.account_id)
        elif action == "delete":
            if stored.status == "syncing":
                results.append(ActionResult(file_id, False, "the file is syncing; try again when it is done"))
                continue
            removed = drop_chunks(session, stored)
            stored.in_store = False
            stored.excluded = False
            stored.status = "uploaded"
            stored.synced_sha256 = None
            stored.synced_at = None
            stored.chunk_count = 0
            stored.error = None
            audit.record_event(session, tenant_id, audit.FILE_DELETED, asset_id=file_id, account_id=stored.account_id,
                               details={"scope": "store", "chunksRemoved": len(removed)})
        else:
            resync.append(file_id)
        results.append(ActionResult(file_id, True))
    op = queue_operation(session, tenant_id, resync, kind="resync", account_id=account_id) if resync else None
    session.flush()
    return results, op


@dataclass(frozen=True)
class RefreshResult:
    checked: int
    changed: int
    operation: StoreOperation | None


def refresh(session: Session, tenant_id: uuid.UUID, file_ids: Sequence[uuid.UUID] | None, *,
            files: FileStore, account_id: uuid.UUID | None = None) -> RefreshResult:
    """Re-read the stored bytes of the store's files (all, or `file_ids`; of `account_id` when given).

    A file whose bytes changed gets its size, sha256, pages and title from the new bytes and a
    `file_refreshed` event saying what they now are; changed files that were synced are queued for a
    re-sync, whose chunks replace the old ones. NotFound listing every id that is not visible."""
    if file_ids is not None:
        ids = _check_ids(file_ids)
        found = tenant_files(session, tenant_id, ids, account_id=account_id)
        missing = [str(i) for i in ids if i not in found]
        if missing:
            raise NotFound(f"unknown asset ids: {', '.join(missing)}", extra={"missing": missing})
        chosen = list(found.values())
    else:
        chosen = list(session.execute(
            sa.select(StoredFile).where(*_visible(tenant_id, account_id), StoredFile.in_store)
        ).scalars())
    changed: list[uuid.UUID] = []
    for stored in chosen:
        data = files.get(stored.storage_key)
        digest = hashlib.sha256(data).hexdigest()
        if digest != stored.sha256 or len(data) != stored.size_bytes:
            details = _reread(session, stored, data, digest)
            audit.record_event(session, tenant_id, audit.FILE_REFRESHED, asset_id=stored.id,
                               account_id=stored.account_id, details=details)
        if stored.in_store and stored.synced_sha256 is not None and stored.synced_sha256 != stored.sha256:
            changed.append(stored.id)
    stored_at = datetime.now(UTC)
    for stored in chosen:
        stored.updated_at = stored_at
    op = queue_operation(session, tenant_id, changed, kind="refresh") if changed else None
    session.flush()
    return RefreshResult(len(chosen), len(changed), op)


def _reread(session: Session, stored: StoredFile, data: bytes, digest: str) -> dict:
    """Take the new bytes' size, sha256, pages and title into the file's row; the event's details."""
    twin = session.execute(
        sa.select(StoredFile.id).where(StoredFile.tenant_id == stored.tenant_id,
                                       StoredFile.account_id == stored.account_id,
                                       StoredFile.sha256 == digest, StoredFile.id != stored.id)
    ).scalar_one_or_none()
    if twin is not None:  # one row per account and content: the file keeps what it had
        return {"sha256": digest, "sizeBytes": len(data), "previousSha256": stored.sha256,
                "error_message": f"the new bytes are the same as file {twin}'s; the file was not updated"}
    details: dict = {"sha256": digest, "sizeBytes": len(data), "previousSha256": stored.sha256}
    stored.sha256 = digest
    stored.size_bytes = len(data)
    try:
        detected = detect_type(data, stored.name)
        info = read_info(detected.kind, data)
    except KarizError as exc:  # the re-sync fails it with the same reason; pages and title are unknown
        stored.pages = stored.title = None
        details["error_message"] = exc.message
        return details
    stored.content_type = detected.content_type
    stored.pages, stored.title = info.page_count, info.title
    return {**details, "pages": info.page_count, "title": info.title}
