"""Views of vault files (camelCase, inside the `{"success": true, "data": ...}` envelope)."""

from __future__ import annotations

from datetime import datetime

import msgspec

from api.envelopes import Envelope, Page, named
from core.db.models import StoredFile


class FileView(msgspec.Struct, rename="camel"):
    id: str
    account_id: str
    name: str
    content_type: str
    size_bytes: int
    sha256: str
    status: str
    in_store: bool
    excluded: bool
    chunks: int
    pages: int | None
    title: str | None
    synced_at: datetime | None
    error: str | None
    created_at: datetime


class UploadView(FileView, rename="camel"):
    created: bool = True
    operation_id: str | None = None


FileResponse = named(Envelope[UploadView], "FileResponse")


FileDetailResponse = named(Envelope[FileView], "FileDetailResponse")


FileListResponse = named(Page[FileView], "FileListResponse")


def file_view(f: StoredFile) -> FileView:
    return FileView(
        id=str(f.id), account_id=str(f.account_id), name=f.name, content_type=f.content_type, size_bytes=f.size_bytes,
        sha256=f.sha256, status=f.store_status, in_store=f.in_store, excluded=f.excluded, chunks=f.chunk_count,
        pages=f.pages, title=f.title, synced_at=f.synced_at, error=f.error, created_at=f.created_at,
    )


def upload_view(f: StoredFile, *, created: bool, operation_id: str | None) -> UploadView:
    return UploadView(**msgspec.structs.asdict(file_view(f)), created=created, operation_id=operation_id)
