"""Choosing the file store from settings: `KARIZ_FILE_STORE_URL` (s3://...) or a folder under data_dir."""

from __future__ import annotations

import threading

from core.files.base import FileStore
from core.settings import Settings, get_settings

_STORES: dict[str, FileStore] = {}
_LOCK = threading.Lock()


def make_file_store(settings: Settings) -> FileStore:
    """A new store for `settings`."""
    url = settings.file_store_url.get_secret_value() if settings.file_store_url else None
    if url:
        from core.files.s3 import S3FileStore

        return S3FileStore(url)
    from core.files.local import LocalFileStore

    return LocalFileStore(settings.data_dir / "files")


def get_file_store(settings: Settings | None = None) -> FileStore:
    """The process-wide store for these settings."""
    settings = settings or get_settings()
    url = settings.file_store_url.get_secret_value() if settings.file_store_url else ""
    key = url or str(settings.data_dir / "files")
    with _LOCK:
        if key not in _STORES:
            _STORES[key] = make_file_store(settings)
        return _STORES[key]
