"""Upload reading, shared by every file path (API upload, landing zone, blue-green replace): the
size limit, the parse into rows and the file's hash, each done once."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import core.settings
from core.errors import PayloadTooLarge
from core.ingestion.formats import ParsedSource, parse_file


@dataclass(frozen=True, slots=True)
class Upload:
    """A file read into rows: its name, format, encoding and columns (`source`) and `sha256:` hash."""

    filename: str | None
    source: ParsedSource
    file_hash: str


def read_upload(data: bytes | Path, *, max_bytes: int | None = None) -> bytes:
    """The bytes of an upload (or a file path), refusing anything over the size limit (PayloadTooLarge)."""
    limit = core.settings.get_settings().max_upload_bytes if max_bytes is None else max_bytes
    if isinstance(data, Path):
        size = data.stat().st_size
        if size > limit:
            raise PayloadTooLarge(f"file is {size} bytes; the limit is {limit} bytes")
        data = data.read_bytes()
    if len(data) > limit:
        raise PayloadTooLarge(f"file is {len(data)} bytes; the limit is {limit} bytes")
    return data


def prepare_upload(
    data: bytes | Path,
    *,
    filename: str | None = None,
    file_format: str | None = None,
    record_tag: str | None = None,
    max_bytes: int | None = None,
) -> Upload:
    """Read an upload: PayloadTooLarge over `max_bytes` (default: settings.max_upload_bytes),
    InvalidInput when the file as a whole cannot be read; rows that cannot be read come back as
    RowError in `source.rows`. A path's name is the filename unless one is given."""
    if isinstance(data, Path) and filename is None:
        filename = data.name
    raw = read_upload(data, max_bytes=max_bytes)
    source = parse_file(raw, filename=filename, file_format=file_format, record_tag=record_tag)
    return Upload(filename, source, f"sha256:{hashlib.sha256(raw).hexdigest()}")
