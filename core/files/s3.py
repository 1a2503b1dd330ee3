"""An S3-compatible file store (AWS S3, MinIO, Ceph, ...) through the `minio` client.

Selected by `KARIZ_FILE_STORE_URL=s3://ACCESS_KEY:SECRET_KEY@host[:port]/bucket[?secure=false&region=R]`,
so API processes and Dagster workers on different machines share the same bytes.
"""

from __future__ import annotations

import io
from urllib.parse import parse_qs, unquote, urlsplit

from core.errors import InvalidInput, NotFound, Unavailable
from core.files.base import FileStore, check_key


class S3FileStore(FileStore):
    """Objects in one bucket, named by the storage key."""

    def __init__(self, url: str) -> None:
        from minio import Minio

        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.hostname or not parts.path.strip("/"):
            raise InvalidInput("KARIZ_FILE_STORE_URL must look like s3://KEY:SECRET@host[:port]/bucket")
        query = parse_qs(parts.query)
        secure = query.get("secure", ["true"])[0].lower() not in ("false", "0", "no")
        endpoint = parts.hostname + (f":{parts.port}" if parts.port else "")
        self.bucket = parts.path.strip("/")
        self.client = Minio(
            endpoint,
            access_key=unquote(parts.username or ""),
            secret_key=unquote(parts.password or ""),
            secure=secure,
            region=query.get("region", [None])[0],
        )
        self._bucket_checked = False

    def _ensure_bucket(self) -> None:
        if self._bucket_checked:
            return
        try:
            if not self.client.bucket_exists(self.bucket):
                self.client.make_bucket(self.bucket)
        except Exception as exc:
            raise Unavailable(f"object store unreachable: {type(exc).__name__}") from None
        self._bucket_checked = True

    def put(self, key: str, data: bytes) -> None:
        self._ensure_bucket()
        try:
            self.client.put_object(self.bucket, check_key(key), io.BytesIO(data), len(data))
        except InvalidInput:
            raise
        except Exception as exc:
            raise Unavailable(f"object store write failed: {type(exc).__name__}") from None

    def get(self, key: str) -> bytes:
        from minio.error import S3Error

        self._ensure_bucket()
        response = None
        try:
            response = self.client.get_object(self.bucket, check_key(key))
            return response.read()
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject"):
                raise NotFound("the file's bytes are missing from the store") from None
            raise Unavailable(f"object store read failed: {exc.code}") from None
        except InvalidInput:
            raise
        except Exception as exc:
            raise Unavailable(f"object store read failed: {type(exc).__name__}") from None
        finally:
            if response is not None:
                response.close()
                response.release_conn()

    def exists(self, key: str) -> bool:
        from minio.error import S3Error

        self._ensure_bucket()
        try:
            self.client.stat_object(self.bucket, check_key(key))
            return True
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject", "NotFound"):
                return False
            raise Unavailable(f"object store unreachable: {exc.code}") from None

    def delete(self, key: str) -> bool:
        existed = self.exists(key)
        try:
            self.client.remove_object(self.bucket, check_key(key))
        except Exception as exc:
            raise Unavailable(f"object store delete failed: {type(exc).__name__}") from None
        return existed
