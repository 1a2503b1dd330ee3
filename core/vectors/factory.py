"""Choosing the vector index backend from settings (`effective_vector_backend`)."""

from __future__ import annotations

import threading

from core.settings import Settings, get_settings
from core.vectors.base import VectorIndex

_INDEXES: dict[tuple[str, str], VectorIndex] = {}
_LOCK = threading.Lock()


def make_vector_index(settings: Settings, *, database_url: str | None = None) -> VectorIndex:
    """A new index: Qdrant at `QDRANT_URL` (a URL, `":memory:"` or a folder), else pgvector in the
    application database (`database_url`, `DATABASE_URL`, or the embedded server)."""
    if settings.effective_vector_backend == "qdrant":
        from core.vectors.qdrant import QdrantIndex

        return QdrantIndex(settings.qdrant_url or ":memory:")
    from core.vectors.pgvector import PgVectorIndex

    return PgVectorIndex(
        database_url or _application_url(settings), pool_size=max(2, settings.db_pool_size // 2)
    )


def get_vector_index(settings: Settings | None = None, *, database_url: str | None = None) -> VectorIndex:
    """The process-wide index for these settings (one connection pool or Qdrant client per process)."""
    settings = settings or get_settings()
    backend = settings.effective_vector_backend
    target = (
        (settings.qdrant_url or ":memory:")
        if backend == "qdrant"
        else (database_url or settings.database_url or "")
    )
    key = (backend, target)
    with _LOCK:
        if key not in _INDEXES:
            _INDEXES[key] = make_vector_index(settings, database_url=database_url)
        return _INDEXES[key]


def _application_url(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    from core.db.embedded import resolve_database_urls

    return resolve_database_urls(settings)[0]
