"""The one ingestion function: rows in, deduplicated searchable records out, all or nothing.

The API upload, the Dagster landing-zone job, connector pulls and the blue-green replace (with
`generation=` a staging generation) all call `ingest_records` / `ingest_file` (or `ingest_upload`
for an upload already read). Validation lives in `validation.py`, row
preparation in `preparation.py`, the producer/consumer write in `threaded_write.py`, upload reading
in `uploads.py`.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import ValidationFailed
from core.ingestion.keys import parse_key_fields, parse_mode, remember_key
from core.ingestion.naming import choose_name_column
from core.ingestion.preparation import KeyTally, RowPreparer, Tally, as_rows, first_row
from core.ingestion.rows import ParsedRow, RowError
from core.ingestion.store import (
    KeyedWriter,
    StagedWriter,
    archive_absent,
    finish_generation,
    log_ingestion,
    resolve_target,
)
from core.ingestion.threaded_write import write_rows
from core.ingestion.uploads import Upload, prepare_upload, read_upload
from core.ingestion.validation import check_names
from core.records.bulk import Executor, driver_connection
from core.records.searchable import add_fields, bump_search_version

log = logging.getLogger(__name__)


@dataclass(slots=True)
class IngestionResult:
    """The outcome of one ingestion (`api/ingest/schemas.py` renders it as the contract's result)."""

    ingestion_id: uuid.UUID
    status: str
    submitted: int
    accepted: int
    rejected: int
    dedup_skipped: int
    errors: list[dict[str, Any]]
    processing_time_ms: int
    file_hash: str
    reconciliation_passed: bool
    pipeline_backpressure: bool
    collection: str
    collection_id: uuid.UUID
    generation: int
    file_format: str | None = None
    encoding: str | None = None
    # record identity (core/ingestion/keys.py); without a key: inserted = accepted, unchanged = dedup
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    archived: int = 0
    replaced_in_file: int = 0
    replaced_lines: list[dict[str, Any]] = field(default_factory=list)
    record_key: list[str] | None = None
    mode: str = "append"
    keys: set[str] | None = None  # the keys seen, when asked for (`keep_keys`); never serialised


def ingest_records(
    db: Executor,
    *,
    tenant_id: uuid.UUID,
    collection_name: str,
    records: Iterable[Mapping[str, Any] | ParsedRow | RowError],
    entity_type: str | None,
    source_type: str = "api",
    source_name: str | None = None,
    generation: int | None = None,
    create_collection: bool = True,
    name_column: str | None = None,
    columns: list[str] | None = None,
    file_hash: str | None = None,
    filename: str | None = None,
    file_format: str | None = None,
    encoding: str | None = None,
    key_column: str | Sequence[str] | None = None,
    deleted_column: str | None = None,
    mode: str = "append",
    keep_keys: bool = False,
) -> IngestionResult:
    """Write records into a collection generation and report what happened.

    Records are flat mappings (the name taken from `name_column` or a detected column, every other
    field kept typed in `collection_data`) or structured ones (`name`, `collection_data`, optional
    `record_type`, `description_llm`). The collection and its active generation 1 are created when
    missing (unless `create_collection=False`: NotFound). A bad row is rejected with its line;
    anything else that fails raises and leaves the collection exactly as it was (a savepoint inside
    the caller's transaction, which the caller commits). New records are `status='active'`,
    `embedding_status='pending'`.

    Without a key (`key_column`, or one the collection remembers), content already in the
    generation is skipped (`dedup_skipped`). With one (see core/ingestion/keys.py), a row whose key
    exists replaces that record in place (`updated`; unchanged rows are skipped), the last of
    several rows of one key wins (the others are `replaced_in_file`), a row whose `deleted_column`
    is truthy archives its record, and `mode="mirror"` archives every active record whose key the
    rows did not hold (nothing when a row was rejected: that row's record is not known to be gone). A key field missing from a row rejects that row; an object or list as a key
    is ValidationFailed (422); another key than the collection's is Conflict (409). `keep_keys`
    keeps the keys seen on the result (for a pull's mirror step).
    """
    check_names(collection_name, entity_type, source_type, source_name)
    started = time.perf_counter()
    key_fields = parse_key_fields(key_column)
    mode = parse_mode(mode)
    if deleted_column is not None and (not isinstance(deleted_column, str) or not deleted_column.strip()):
        raise ValidationFailed("deleted_column must be a field name", extra={"field": "deleted_column"})
    ingestion_id = uuid.uuid4()
    tally = Tally()
    digest = hashlib.sha256() if file_hash is None else None
    rows = as_rows(records)
    first, leading = first_row(rows, tally)
    if first is not None and not isinstance(first.fields.get("collection_data"), Mapping):
        name_col = choose_name_column(columns or list(first.fields), first.fields, name_column)
    else:
        name_col = name_column
    preparer = RowPreparer(entity_type.strip(), name_col, tally, digest)

    def ordered() -> Iterator[ParsedRow | RowError]:
        yield from leading
        if first is not None:
            yield first
            yield from rows

    with db.begin_nested():
        target = resolve_target(
            db, tenant_id, collection_name, generation=generation, create=create_collection
        )
        key_fields = remember_key(db, target.collection_id, collection_name, key_fields)
        if key_fields is None and (mode == "mirror" or deleted_column):
            raise ValidationFailed(
                "mode=mirror and deleted_column need a record key: name key_column",
                extra={"field": "key_column"},
            )
        keys = KeyTally() if key_fields is not None else None
        preparer.key_fields = key_fields
        preparer.deleted_column = deleted_column.strip() if deleted_column else None
        writer = write_rows(
            db,
            target,
            ordered(),
            preparer,
            keys=keys,
            ingestion_id=ingestion_id,
            source_type=source_type,
            source_name=source_name,
        )
        valid = tally.valid  # rows that reached the database
        submitted = valid + tally.rejected
        counts = _Counts.of(writer, keys, valid)
        if keys is not None and mode == "mirror" and not tally.rejected:
            # with rejected rows the mirror is incomplete: their records are not known to be gone
            counts.archived += archive_absent(driver_connection(db), target, keys.seen)
        accepted, dedup = counts.accepted, counts.skipped
        add_fields(db, target.collection_id, target.generation, tally.kinds)
        backpressure = finish_generation(db, target, counts.inserted - counts.archived)
        if accepted or counts.archived:
            bump_search_version(db, target.collection_id)
        reconciled = (
            writer.sent == counts.written_rows
            and writer.staged == counts.written_rows
            and submitted == accepted + tally.rejected + dedup + counts.deleted_rows
        )
        if accepted or counts.archived:
            status = "processing"  # searchable now; embeddings are pending
        elif tally.rejected and not dedup and not counts.deleted_rows:
            status = "failed"
        else:
            status = "completed"
        result = IngestionResult(
            ingestion_id=ingestion_id,
            status=status,
            submitted=submitted,
            accepted=accepted,
            rejected=tally.rejected,
            dedup_skipped=dedup,
            errors=tally.errors,
            processing_time_ms=0,
            file_hash=file_hash or f"sha256:{digest.hexdigest()}",
            reconciliation_passed=reconciled,
            pipeline_backpressure=backpressure,
            collection=collection_name,
            collection_id=target.collection_id,
            generation=target.generation,
            file_format=file_format,
            encoding=encoding,
            inserted=counts.inserted,
            updated=counts.updated,
            unchanged=counts.unchanged,
            archived=counts.archived,
            replaced_in_file=keys.replaced_count if keys else 0,
            replaced_lines=keys.replaced_lines if keys else [],
            record_key=list(key_fields) if key_fields else None,
            mode=mode,
            keys=set(keys.seen) if keys is not None and keep_keys else None,
        )
        result.processing_time_ms = int((time.perf_counter() - started) * 1000)
        log_ingestion(
            db,
            target,
            ingestion_id=ingestion_id,
            values={
                "source_type": source_type,
                "source_name": source_name,
                "filename": filename,
                "file_format": file_format,
                "file_hash": result.file_hash,
                "status": status,
                "submitted": result.submitted,
                "accepted": accepted,
                "rejected": result.rejected,
                "dedup_skipped": dedup,
                "errors": result.errors[:100],
                "processing_time_ms": result.processing_time_ms,
            },
        )
    log.info(
        "ingestion %s into %s/%s gen %d: %d inserted, %d updated, %d unchanged, %d archived, %d rejected",
        ingestion_id,
        tenant_id,
        collection_name,
        target.generation,
        counts.inserted,
        counts.updated,
        counts.unchanged,
        counts.archived,
        result.rejected,
    )
    return result


@dataclass(slots=True)
class _Counts:
    """What the rows did: inserted (new, or revived archived keys), updated, unchanged, archived."""

    inserted: int
    updated: int
    unchanged: int
    archived: int
    replaced: int
    deleted_rows: int  # rows that were soft deletes (keyed only)
    written_rows: int  # rows sent to the staging table

    @property
    def accepted(self) -> int:
        return self.inserted + self.updated

    @property
    def skipped(self) -> int:
        return self.unchanged + self.replaced

    @classmethod
    def of(cls, writer: StagedWriter, keys: KeyTally | None, valid: int) -> _Counts:
        if keys is None or not isinstance(writer, KeyedWriter):
            return cls(writer.inserted, 0, valid - writer.inserted, 0, 0, 0, valid)
        inserted = writer.inserted + writer.revived
        final_upserts = len(keys.seen) - len(keys.deleted)
        unchanged = max(final_upserts - inserted - writer.updated, 0)
        deleted_rows = valid - keys.replaced_count - final_upserts
        return cls(
            inserted,
            writer.updated,
            unchanged,
            writer.archived,
            keys.replaced_count,
            max(deleted_rows, 0),
            writer.sent,
        )


def archive_missing_keys(
    db: Executor, *, tenant_id: uuid.UUID, collection_name: str, keys: Iterable[str]
) -> int:
    """The mirror step of a pull that spans several ingestions: archive the active records of the
    collection's active generation whose key is not in `keys`; returns how many. The caller commits."""
    with db.begin_nested():
        target = resolve_target(db, tenant_id, collection_name, generation=None, create=False)
        archived = archive_absent(driver_connection(db), target, keys)
        if archived:
            finish_generation(db, target, -archived)
            bump_search_version(db, target.collection_id)
    return archived


def ingest_file(
    db: Executor,
    *,
    tenant_id: uuid.UUID,
    collection_name: str,
    data: bytes | Path,
    filename: str | None = None,
    entity_type: str | None,
    source_type: str = "file_upload",
    source_name: str | None = None,
    record_tag: str | None = None,
    name_column: str | None = None,
    file_format: str | None = None,
    generation: int | None = None,
    create_collection: bool = True,
    max_bytes: int | None = None,
    key_column: str | Sequence[str] | None = None,
    deleted_column: str | None = None,
    mode: str = "append",
) -> IngestionResult:
    """Ingest a CSV, JSON array, NDJSON, XML (`record_tag`) or PDF file through `ingest_records`
    (`key_column`, `deleted_column` and `mode` as there).

    PayloadTooLarge over `max_bytes` (default: settings.max_upload_bytes); InvalidInput when the file
    as a whole cannot be read (not a PDF, malformed JSON array or XML, refused XML entities)."""
    if isinstance(data, Path) and filename is None:
        filename = data.name
    raw = read_upload(data, max_bytes=max_bytes)  # the size first, then the names, then the parse
    check_names(collection_name, entity_type, source_type, source_name)
    upload = prepare_upload(
        raw, filename=filename, file_format=file_format, record_tag=record_tag, max_bytes=max_bytes
    )
    return ingest_upload(
        db,
        upload,
        tenant_id=tenant_id,
        collection_name=collection_name,
        entity_type=entity_type,
        source_type=source_type,
        source_name=source_name,
        name_column=name_column,
        generation=generation,
        create_collection=create_collection,
        key_column=key_column,
        deleted_column=deleted_column,
        mode=mode,
    )


def ingest_upload(
    db: Executor,
    upload: Upload,
    *,
    tenant_id: uuid.UUID,
    collection_name: str,
    entity_type: str | None,
    source_type: str = "file_upload",
    source_name: str | None = None,
    name_column: str | None = None,
    generation: int | None = None,
    create_collection: bool = True,
    key_column: str | Sequence[str] | None = None,
    deleted_column: str | None = None,
    mode: str = "append",
    rows: Iterable[ParsedRow | RowError] | None = None,
) -> IngestionResult:
    """`ingest_records` of a prepared upload: its rows (or `rows`, when the
    caller has read them already, e.g. to count them), columns, hash, filename, format and encoding."""
    return ingest_records(
        db,
        tenant_id=tenant_id,
        collection_name=collection_name,
        records=upload.source.rows if rows is None else rows,
        entity_type=entity_type,
        source_type=source_type,
        source_name=source_name or upload.filename,
        generation=generation,
        create_collection=create_collection,
        name_column=name_column,
        columns=upload.source.columns or None,
        file_hash=upload.file_hash,
        filename=upload.filename,
        file_format=upload.source.format,
        encoding=upload.source.encoding,
        key_column=key_column,
        deleted_column=deleted_column,
        mode=mode,
    )
