"""Multipart file uploads: the field name, the transport's body limit, and reading the file.

Areas whose routes take uploads list them in `UPLOAD_ROUTES` (beside `ROUTES`); the app mounts them
under a router whose body limit is `upload_body_limit(settings)`, read when the app is created."""

from __future__ import annotations

from typing import Any

from litestar.datastructures import UploadFile

from core.errors import ValidationFailed
from core.settings import Settings

UPLOAD_FIELD = "file"
# the transport lets a little more than the upload limit through (multipart framing), so an
# oversize file still reaches the service and gets the contract's 413 body; far beyond it, the
# transport's own 413 answers before the body is read
_MULTIPART_SLACK = 1024 * 1024


def upload_body_limit(settings: Settings) -> int:
    """The transport's body limit for upload routes: the upload limit plus multipart framing."""
    return settings.max_upload_bytes + _MULTIPART_SLACK


async def read_upload(data: dict[str, Any]) -> tuple[bytes, str | None]:
    """The uploaded file's bytes and name; ValidationFailed (422) when the field is missing."""
    upload = data.get(UPLOAD_FIELD)
    if not isinstance(upload, UploadFile):
        raise ValidationFailed(f"a file is required in the multipart field '{UPLOAD_FIELD}'")
    return await upload.read(), upload.filename
