"""The sources of a turn: the RAG store's retrieval function (`core.documents.retrieval`), numbered
from 1 in rank order, on the caller's tenant (and account, and files when given)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.chat.provider import Source
from core.errors import NotFound, Unavailable

SOURCE_LIMIT = 6


def retrieve_sources(session: Session, tenant_id: uuid.UUID, question: str, *,
                           account_id: uuid.UUID | None = None, file_ids: Sequence[uuid.UUID] | None = None,
                           limit: int = SOURCE_LIMIT) -> list[Source]:
    """The best chunks for `question` as numbered sources; never another tenant's."""
    try:
        from core.documents.retrieval import retrieve
    except ModuleNotFoundError as exc:  # the RAG store is not part of this build
        raise Unavailable("the document store is not available") from exc

    chunks = retrieve(session, tenant_id, question, account_id=account_id, file_ids=file_ids, limit=limit)
    return [Source(n=i, asset_id=c.file_id, file_name=c.file_name, page=c.page, chunk_id=c.chunk_id,
                   score=float(c.score), text=c.text) for i, c in enumerate(chunks, start=1)]


def check_files(session: Session, tenant_id: uuid.UUID, file_ids: Sequence[uuid.UUID], *,
                account_id: uuid.UUID | None = None) -> None:
    """NotFound naming every id that is not one of the tenant's files (of `account_id`, when given)."""
    if not file_ids:
        return
    own = " AND account_id = :account" if account_id is not None else ""
    rows = session.execute(sa.text(f"SELECT id FROM files WHERE tenant_id = :tenant AND id = ANY(:ids){own}"),
                                 {"tenant": tenant_id, "ids": list(file_ids), "account": account_id})
    found = {r[0] for r in rows}
    missing = [str(f) for f in file_ids if f not in found]
    if missing:
        raise NotFound(f"unknown files: {', '.join(missing)}", extra={"files": missing})
