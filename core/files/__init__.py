"""The file store: where the bytes of vault files live (a folder, or an S3-compatible bucket)."""

from core.files.base import FileStore, new_storage_key
from core.files.factory import get_file_store, make_file_store

__all__ = ["FileStore", "get_file_store", "make_file_store", "new_storage_key"]
