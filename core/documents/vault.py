"""The asset vault: an account's files (bytes in the FileStore, metadata in PostgreSQL).

Uploads are checked before anything is written: the account must be the tenant's, the content a
supported document (by content, not name: another kind is 415), readable as that kind (a damaged
PDF or DOCX is 422), the size within the upload limit (413) and the tenant's storage quota (402). The same bytes uploaded again for the same account return the existing file.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.accounts.service import get_account
from core.db.models import FileChunk, StoredFile, Tenant
from core.documents import audit
from core.documents.extraction import read_info
from core.documents.formats import detect_type
from core.documents.vectors import mark_for_cleanup
from core.errors import NotFound, PayloadTooLarge, QuotaExceeded
from core.files.base import FileStore, new_storage_key

log = logging.getLogger(__name__)
MB = 1024 * 1024


@dataclass(frozen=True)
class Upload:
    file: StoredFile
    created: bool  # False when the same bytes were already stored for the account


def get_file(
    session: Session, tenant_id: uuid.UUID, file_id: uuid.UUID, account_id: uuid.UUID | None = None
) -> StoredFile:
    """The tenant's file (of `account_id` when given); NotFound otherwise."""
    stored = session.get(StoredFile, file_id)
    if (
        stored is None
        or stored.tenant_id != tenant_id
        or (account_id is not None and stored.account_id != account_id)
    ):
        raise NotFound(f"file {file_id} not found")
    return stored


def used_bytes(session: Session, tenant_id: uuid.UUID) -> int:
    """Bytes the tenant's vault holds."""
    return int(
        session.execute(
            sa.select(sa.func.coalesce(sa.func.sum(StoredFile.size_bytes), 0)).where(
                StoredFile.tenant_id == tenant_id
            )
        ).scalar_one()
    )


def upload_file(
    session: Session,
    tenant_id: uuid.UUID,
    account_id: uuid.UUID,
    data: bytes,
    filename: str | None,
    *,
    store: FileStore,
    max_bytes: int,
) -> Upload:
    """Store an uploaded document for the account (the caller commits).

    NotFound (account), PayloadTooLarge, UnsupportedType (415) / ValidationFailed (422: empty, misnamed
    or unreadable), QuotaExceeded; nothing is written when one is raised."""
    get_account(session, tenant_id, account_id)
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"the file is {len(data)} bytes; the limit is {max_bytes // MB} MB")
    detected = detect_type(data, filename)
    info = read_info(detected.kind, data)
    digest = hashlib.sha256(data).hexdigest()
    existing = _same_bytes(session, tenant_id, account_id, digest)
    if existing is not None:
        return Upload(existing, False)
    # one upload at a time per tenant, so two cannot both slip under the quota
    tenant = session.execute(sa.select(Tenant).where(Tenant.id == tenant_id).with_for_update()).scalar_one()
    used = used_bytes(session, tenant_id)
    if used + len(data) > tenant.storage_limit_bytes:
        raise QuotaExceeded(
            f"storage quota exceeded: {used} of {tenant.storage_limit_bytes} bytes used, the file needs {len(data)}",
            extra={"usedBytes": used, "quotaBytes": tenant.storage_limit_bytes},
        )
    name = _clean_name(filename, detected.kind)
    key = new_storage_key(tenant_id)
    store.put(key, data)
    stored = StoredFile(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        account_id=account_id,
        name=name,
        content_type=detected.content_type,
        size_bytes=len(data),
        sha256=digest,
        storage_key=key,
        status="uploaded",
        in_store=False,
        excluded=False,
        chunk_count=0,
        pages=info.page_count,
        title=info.title,
        created_at=datetime.now(UTC),
    )
    try:
        with session.begin_nested():
            session.add(stored)
            session.flush()
    except IntegrityError:  # the same bytes arrived concurrently for this account
        store.delete(key)
        existing = _same_bytes(session, tenant_id, account_id, digest)
        if existing is None:
            raise
        return Upload(existing, False)
    except BaseException:
        store.delete(key)
        raise
    audit.record_event(
        session,
        tenant_id,
        audit.FILE_UPLOADED,
        asset_id=stored.id,
        account_id=account_id,
        details={"name": name, "sizeBytes": len(data), "sha256": digest},
    )
    return Upload(stored, True)


def list_files(
    session: Session, tenant_id: uuid.UUID, account_id: uuid.UUID, *, limit: int, offset: int
) -> tuple[list[StoredFile], int]:
    """The account's files, newest first, and how many it has."""
    get_account(session, tenant_id, account_id)
    where = (StoredFile.tenant_id == tenant_id, StoredFile.account_id == account_id)
    rows = (
        session.execute(
            sa.select(StoredFile)
            .where(*where)
            .order_by(StoredFile.created_at.desc(), StoredFile.id)
            .limit(limit)
            .offset(offset)
        )
        .scalars()
        .all()
    )
    total = session.execute(sa.select(sa.func.count()).select_from(StoredFile).where(*where)).scalar_one()
    return list(rows), total


def delete_file(
    session: Session,
    tenant_id: uuid.UUID,
    file_id: uuid.UUID,
    *,
    account_id: uuid.UUID | None = None,
    operation_id: uuid.UUID | None = None,
) -> str:
    """Delete a file's row and chunks, list its vectors for cleanup and write `file_deleted`; returns
    the storage key whose bytes the caller removes after committing."""
    stored = get_file(session, tenant_id, file_id, account_id)
    chunk_ids = drop_chunks(session, stored)
    key = stored.storage_key
    audit.record_event(
        session,
        tenant_id,
        audit.FILE_DELETED,
        asset_id=stored.id,
        account_id=stored.account_id,
        operation_id=operation_id,
        details={"name": stored.name, "scope": "vault", "chunksRemoved": len(chunk_ids)},
    )
    session.delete(stored)
    session.flush()
    return key


def drop_chunks(session: Session, stored: StoredFile) -> list[uuid.UUID]:
    """Delete the file's chunks and list their vectors for cleanup (the caller commits)."""
    chunk_ids = list(
        session.execute(
            sa.delete(FileChunk).where(FileChunk.file_id == stored.id).returning(FileChunk.id)
        ).scalars()
    )
    mark_for_cleanup(session, stored.tenant_id, chunk_ids)
    return chunk_ids


def _same_bytes(
    session: Session, tenant_id: uuid.UUID, account_id: uuid.UUID, digest: str
) -> StoredFile | None:
    return session.execute(
        sa.select(StoredFile).where(
            StoredFile.tenant_id == tenant_id,
            StoredFile.account_id == account_id,
            StoredFile.sha256 == digest,
        )
    ).scalar_one_or_none()


def _clean_name(filename: str | None, kind: str) -> str:
    """The file name as metadata: the last path part, control characters removed, at most 255 chars."""
    raw = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in raw if ch.isprintable()).strip()
    return (name or f"document.{kind}")[:255]
