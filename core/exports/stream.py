"""Stream a collection's records from PostgreSQL into an export file, without holding them in memory.

Rows travel as PostgreSQL's own COPY output (one CopyData message per row) through psycopg 3 into
a buffered file, so memory stays flat however many rows there are; the file is written under a
temporary name and renamed into place only when complete.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.orm import Session

import core.settings
from core.exports import queries
from core.exports.formats import ExportFormat, parse_format, parse_record_status
from core.exports.ids import export_id as make_export_id

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], None]
"""Called as `progress(rows_written, total)` once the total is known, every N rows, and at the end."""

_WRITE_BUFFER = 1 << 20


@dataclass(frozen=True)
class ExportResult:
    """A finished export file and what it holds."""

    path: Path
    rows: int
    bytes: int
    content_type: str
    filename: str
    format: str
    collection: str
    status: str
    columns: int

    def as_request_result(self) -> dict[str, Any]:
        """The JSON stored in the export's WorkRequest `result`."""
        data = asdict(self)
        data["path"] = str(self.path)
        return data


@contextmanager
def _snapshot(source: sa.Engine | sa.Connection | Session) -> Iterator[sa.Connection]:
    """A connection whose reads share one snapshot: a new REPEATABLE READ transaction for an
    engine, the caller's own transaction for a connection or session."""
    if isinstance(source, Session):
        yield source.connection()
    elif isinstance(source, sa.Connection):
        yield source
    else:
        with source.connect() as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn


def _driver_connection(conn: sa.Connection) -> psycopg.Connection:
    raw = conn.connection.driver_connection
    if not isinstance(raw, psycopg.Connection):
        raise TypeError(f"exports stream through psycopg 3; this engine uses {type(raw).__module__}")
    return raw


def _copy_rows(
    raw: psycopg.Connection,
    statement: psycopg.sql.Composable,
    write_row: Callable[[memoryview], object],
    total: int,
    progress: ProgressCallback | None,
    every: int,
) -> int:
    """Run a COPY TO STDOUT and hand each row (one CopyData message) to `write_row`."""
    rows = 0
    next_report = every
    with raw.cursor() as cur, cur.copy(statement) as copy:
        for row in copy:
            write_row(row)
            rows += 1
            if rows == next_report:
                next_report += every
                if progress is not None:
                    progress(rows, total)
    return rows


def _write_csv(
    raw: psycopg.Connection,
    conn: sa.Connection,
    scope: queries.ExportScope,
    out: IO[bytes],
    total: int,
    progress: ProgressCallback | None,
    every: int,
) -> tuple[int, int]:
    keys = queries.collection_data_keys(conn, scope)
    header = io.StringIO()
    csv.writer(header, lineterminator="\n").writerow(queries.csv_header(keys))
    out.write(header.getvalue().encode())
    statement = queries.copy_csv(queries.csv_select(scope, keys))
    rows = _copy_rows(raw, statement, out.write, total, progress, every)
    return rows, len(queries.BASE_COLUMNS) + len(keys)


def _write_json(
    raw: psycopg.Connection,
    scope: queries.ExportScope,
    out: IO[bytes],
    total: int,
    progress: ProgressCallback | None,
    every: int,
) -> tuple[int, int]:
    out.write(b"[\n")
    rows = _copy_rows(
        raw, queries.copy_json_lines(queries.json_select(scope)), out.write, total, progress, every
    )
    if rows:
        out.seek(out.tell() - 2)  # the last element's ",\n"
    out.write(b"\n]\n" if rows else b"]\n")
    return rows, len(queries.BASE_COLUMNS) + 1


def export_path(export_dir: Path, tenant_id: uuid.UUID, export_id: str, fmt: ExportFormat) -> Path:
    """Where the file of export `export_id` lives: `<export_dir>/<tenant_id>/<export_id>.<ext>`."""
    return export_dir / str(tenant_id) / f"{export_id}.{fmt.extension}"


def resolve_path(export_dir: Path, stored: str) -> Path | None:
    """The absolute file a stored result path names, or None if it points outside `export_dir`."""
    root = export_dir.resolve()
    path = (root / stored).resolve()
    try:
        path.relative_to(root)
    except ValueError:
        return None
    return path


def run_export(
    source: sa.Engine | sa.Connection | Session,
    *,
    tenant_id: uuid.UUID,
    collection: str,
    format: str | ExportFormat = ExportFormat.JSON,
    status: str = "active",
    request_id: uuid.UUID | None = None,
    export_dir: Path | None = None,
    progress: ProgressCallback | None = None,
    progress_every: int = 10_000,
) -> ExportResult:
    """Write every `status` record of the tenant's `collection` (active generation) to one file.

    CSV has a header row (base columns, then the sorted union of `collection_data` keys) and one
    row per record; JSON is one array of record objects with `collection_data` nested. The file
    appears at `export_path(...)` only once complete; on any failure no file is left behind.
    Raises NotFound for an unknown collection and InvalidInput for a bad format or status.
    """
    fmt = parse_format(format)
    status = parse_record_status(status)
    if progress_every < 1:
        raise ValueError("progress_every must be at least 1")
    export_id = make_export_id(request_id or uuid.uuid4())
    root = export_dir if export_dir is not None else core.settings.get_settings().export_dir
    assert root is not None  # settings derive it from data_dir
    final = export_path(root, tenant_id, export_id, fmt)
    final.parent.mkdir(parents=True, exist_ok=True)
    partial = final.with_name(f".{final.name}.part")

    with _snapshot(source) as conn:
        scope = queries.resolve_scope(conn, tenant_id, collection, status)
        total = queries.count_records(conn, scope)
        if progress is not None:
            progress(0, total)
        raw = _driver_connection(conn)
        try:
            with open(partial, "wb", buffering=_WRITE_BUFFER) as out:
                if fmt is ExportFormat.CSV:
                    rows, columns = _write_csv(raw, conn, scope, out, total, progress, progress_every)
                else:
                    rows, columns = _write_json(raw, scope, out, total, progress, progress_every)
                out.flush()
                os.fsync(out.fileno())
            os.replace(partial, final)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    if progress is not None:
        progress(rows, total)
    size = final.stat().st_size
    log.info(
        "export %s: tenant=%s collection=%s status=%s format=%s rows=%d bytes=%d",
        export_id,
        tenant_id,
        collection,
        status,
        fmt.value,
        rows,
        size,
    )
    return ExportResult(
        path=final,
        rows=rows,
        bytes=size,
        content_type=fmt.content_type,
        filename=f"{collection}-{status}-{export_id}.{fmt.extension}",
        format=fmt.value,
        collection=collection,
        status=status,
        columns=columns,
    )
