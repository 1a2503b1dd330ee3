"""The one ingestion function: rows in, deduplicated searchable records out, all or nothing.

The API upload, the Dagster landing-zone job, connector pulls and the blue-green replace (with
`generation=` a staging generation) all call `ingest_records` / `ingest_file`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import queue
import re
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import core.settings
from core.errors import InvalidInput, PayloadTooLarge, ValidationFailed
from core.ingestion.formats import parse_file
from core.ingestion.keys import KeyMissing, is_deleted, key_of, parse_key_fields, parse_mode, remember_key
from core.ingestion.limits import RecordLimits, record_size_problem, shape_problem
from core.ingestion.naming import choose_name_column
from core.ingestion.rows import ParsedRow, RowError
from core.ingestion.store import (
    KeyedWriter,
    StagedWriter,
    Target,
    archive_absent,
    finish_generation,
    log_ingestion,
    resolve_target,
)
from core.records.bulk import Executor, driver_connection
from core.records.content import content_hash_of_json, value_kind
from core.records.identifiers import extract_identifiers
from core.records.searchable import add_fields, bump_search_version

log = logging.getLogger(__name__)

CHUNK_ROWS = 25_000
MAX_ERRORS_REPORTED = 1000
MAX_NAME_LENGTH = 2000
COLLECTION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")
_ENCODE = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=str
).encode


@dataclass(slots=True)
class IngestionResult:
    """The outcome of one ingestion; `to_dict()` is the contract's ingestion result."""

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

    def to_dict(self) -> dict[str, Any]:
        """The contract's shape (ingestion_id, status, summary, errors, metadata), the summary also
        counting inserted, updated, unchanged, archived and replaced_in_file rows."""
        return {
            "ingestion_id": str(self.ingestion_id),
            "status": self.status,
            "summary": {
                "submitted": self.submitted,
                "accepted": self.accepted,
                "rejected": self.rejected,
                "dedup_skipped": self.dedup_skipped,
                "inserted": self.inserted,
                "updated": self.updated,
                "unchanged": self.unchanged,
                "archived": self.archived,
                "replaced_in_file": self.replaced_in_file,
                "replaced": self.replaced_lines,  # [{line, replaced_by_line, key}], the first 1000
            },
            "errors": self.errors,
            "metadata": {
                "processing_time_ms": self.processing_time_ms,
                "file_hash": self.file_hash,
                "reconciliation_passed": self.reconciliation_passed,
                "pipeline_backpressure": self.pipeline_backpressure,
                "record_key": self.record_key,
                "mode": self.mode,
            },
        }


@dataclass(slots=True)
class _Tally:
    valid: int = 0
    rejected: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    kinds: set[tuple[str, str]] = field(default_factory=set)

    def reject(self, error: RowError) -> None:
        self.rejected += 1
        if len(self.errors) < MAX_ERRORS_REPORTED:
            self.errors.append(error.as_dict())


class _Preparer:
    """Turns parsed rows into staging tuples (name, type, data JSON, description, hash, identifiers)."""

    def __init__(self, record_type: str, name_column: str | None, tally: _Tally, digest: Any | None,
                 limits: RecordLimits | None = None) -> None:
        self.record_type = record_type
        self.name_column = name_column
        self.tally = tally
        self.digest = digest  # for record batches: a running hash of content hashes
        self.limits = limits or RecordLimits.from_settings(core.settings.get_settings())
        self.key_fields: tuple[str, ...] | None = None  # set once the collection's key is known
        self.deleted_column: str | None = None

    def key(self, row: ParsedRow, structured: bool) -> tuple[str, bool] | RowError:
        """The row's key text and whether its soft-delete column says deleted."""
        fields = row.fields
        lookup = {**fields, **fields["collection_data"]} if structured else fields
        try:
            key = key_of(self.key_fields or (), lookup, row.line)
        except KeyMissing as exc:
            return RowError(row.line, ",".join(self.key_fields or ()), str(exc))
        deleted = self.deleted_column is not None and is_deleted(lookup.get(self.deleted_column))
        return key, deleted

    def prepare(self, row: ParsedRow) -> tuple | RowError:
        fields = row.fields
        problem = shape_problem(fields, self.limits)
        if problem is not None:
            return RowError(row.line, *problem)
        structured = isinstance(fields.get("collection_data"), Mapping)
        keyed = None
        if self.key_fields is not None:
            keyed = self.key(row, structured)
            if isinstance(keyed, RowError):
                return keyed
            if keyed[1]:  # a soft delete: only the key matters
                return _Deleted(keyed[0])
        if structured:
            data = dict(fields["collection_data"])
            name = fields.get("name")
            record_type = fields.get("record_type") or fields.get("entity_type") or self.record_type
            description = fields.get("description_llm")
            name_field = "name"
        else:
            data = dict(fields)
            if self.name_column is None:  # the first flat row of a batch that began structured
                self.name_column = choose_name_column(list(fields), fields)
            name_field = self.name_column
            name = data.pop(name_field, None) if name_field is not None else None
            record_type = self.record_type
            description = None
        if name is None or isinstance(name, Mapping | list):
            return RowError(row.line, name_field, "no name: the name field is missing, empty or not text")
        name = str(name).strip()
        if not name:
            return RowError(row.line, name_field, "no name: the name field is empty")
        if len(name) > MAX_NAME_LENGTH:
            return RowError(row.line, name_field, f"name longer than {MAX_NAME_LENGTH} characters")
        if not isinstance(record_type, str) or not record_type or len(record_type) > 100:
            return RowError(row.line, "record_type", "record_type must be text of 1-100 characters")
        if description is not None and not isinstance(description, str):
            description = str(description)
        try:
            data_json = _ENCODE(data)
        except ValueError as exc:
            return RowError(row.line, None, f"value not representable in JSON: {exc}")
        if "\\u0000" in data_json or "\x00" in name or (description and "\x00" in description):
            return RowError(row.line, None, "contains a NUL character")
        too_big = record_size_problem((data_json, name, description or ""), self.limits)
        if too_big is not None:
            return RowError(row.line, None, too_big)
        kinds = self.tally.kinds
        for key, value in data.items():
            kinds.add((key, value_kind(value)))
        digest = content_hash_of_json(name, record_type, data_json, description)
        if self.digest is not None:
            self.digest.update(digest.encode())
        identifiers = "{" + ",".join(extract_identifiers(name, data)) + "}"
        if keyed is not None:
            return (name, record_type, data_json, description, digest, identifiers, keyed[0], False)
        return (name, record_type, data_json, description, digest, identifiers)


@dataclass(frozen=True, slots=True)
class _Deleted:
    """A row whose soft-delete column says deleted: its record is archived."""

    key: str


class _KeyedChunk:
    """One chunk of a keyed ingestion: at most one row per key (the last one wins), earlier rows of
    the same key reported as replaced in file with their lines."""

    def __init__(self, keys: _KeyTally) -> None:
        self.keys = keys
        self.rows: list[list[Any] | None] = []
        self.deletes: dict[str, None] = {}
        self._at: dict[str, int] = {}
        self._new_here: set[str] = set()  # keys first met in this chunk (not written by an earlier one)

    def __len__(self) -> int:
        return len(self.rows) + len(self.deletes)

    def add(self, line: int, prepared: tuple | _Deleted) -> None:
        key = prepared.key if isinstance(prepared, _Deleted) else prepared[6]
        earlier = self.keys.seen.get(key)
        if earlier is None:
            self._new_here.add(key)
        else:
            self.keys.replaced(key, earlier, line)
        self.keys.seen[key] = line
        index = self._at.pop(key, None)
        if index is not None:  # the same key earlier in this chunk: that row is dropped
            self.rows[index] = None
        self.deletes.pop(key, None)
        if isinstance(prepared, _Deleted):
            self.deletes[key] = None
            self.keys.deleted.add(key)
            return
        self.keys.deleted.discard(key)
        row = list(prepared)
        row[7] = key not in self._new_here  # seen_before: an earlier chunk wrote this key
        self._at[key] = len(self.rows)
        self.rows.append(row)

    def seal(self) -> tuple[list[list[Any]], list[str]]:
        """The chunk's rows and soft-deleted keys."""
        return [r for r in self.rows if r is not None], list(self.deletes)


@dataclass(slots=True)
class _KeyTally:
    """Every key of a keyed ingestion (the last line of each), and the rows replaced in file."""

    seen: dict[str, int] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)  # keys whose last row is a soft delete
    replaced_count: int = 0
    replaced_lines: list[dict[str, Any]] = field(default_factory=list)

    def replaced(self, key: str, line: int, by: int) -> None:
        self.replaced_count += 1
        if len(self.replaced_lines) < MAX_ERRORS_REPORTED:
            self.replaced_lines.append({"line": line, "replaced_by_line": by, "key": key})


def _as_rows(records: Iterable[Any]) -> Iterator[ParsedRow | RowError]:
    for number, item in enumerate(records, start=1):
        if isinstance(item, ParsedRow | RowError):
            yield item
        elif isinstance(item, Mapping):
            yield ParsedRow(number, dict(item))
        else:
            yield RowError(number, None, f"expected an object, found {type(item).__name__}")


def _first_row(
    rows: Iterator[ParsedRow | RowError], tally: _Tally
) -> tuple[ParsedRow | None, list[RowError]]:
    """Read up to the first parsed row (errors before it are kept in order)."""
    leading: list[RowError] = []
    for item in rows:
        if isinstance(item, RowError):
            leading.append(item)
            continue
        return item, leading
    return None, leading


_DONE = object()


def _produce(
    rows: Iterable[ParsedRow | RowError], preparer: _Preparer, out: queue.Queue, keys: _KeyTally | None
) -> None:
    """Producer thread: parse and prepare rows into chunks while the database writes the previous one.

    Unkeyed chunks are lists of staging tuples; keyed ones are `(rows, deleted keys)` pairs."""
    tally = preparer.tally
    chunk: list[tuple] | _KeyedChunk = [] if keys is None else _KeyedChunk(keys)
    try:
        for item in rows:
            if isinstance(item, RowError):
                tally.reject(item)
                continue
            prepared = preparer.prepare(item)
            if isinstance(prepared, RowError):
                tally.reject(prepared)
                continue
            tally.valid += 1
            if keys is None:
                chunk.append(prepared)  # type: ignore[union-attr]
            else:
                chunk.add(item.line, prepared)  # type: ignore[union-attr]
            if len(chunk) >= CHUNK_ROWS:
                out.put(chunk if keys is None else chunk.seal())  # type: ignore[union-attr]
                chunk = [] if keys is None else _KeyedChunk(keys)
        if len(chunk):
            out.put(chunk if keys is None else chunk.seal())  # type: ignore[union-attr]
        out.put(_DONE)
    except BaseException as exc:  # handed to the writer, which re-raises it in the caller's thread
        out.put(exc)


def _write(
    db: Executor,
    target: Target,
    rows: Iterable[ParsedRow | RowError],
    preparer: _Preparer,
    *,
    keys: _KeyTally | None,
    ingestion_id: uuid.UUID,
    source_type: str,
    source_name: str | None,
) -> StagedWriter:
    writer_class = StagedWriter if keys is None else KeyedWriter
    writer = writer_class(
        driver_connection(db),
        target,
        ingestion_id=ingestion_id,
        source_type=source_type,
        source_name=source_name,
    )
    chunks: queue.Queue = queue.Queue(maxsize=2)
    producer = threading.Thread(
        target=_produce, args=(rows, preparer, chunks, keys), name="kariz-ingest-prepare", daemon=True
    )
    producer.start()
    try:
        while True:
            item = chunks.get()
            if item is _DONE:
                break
            if isinstance(item, BaseException):
                raise item
            if keys is None:
                writer.write(item)
            else:
                upserts, deletes = item
                if upserts:
                    writer.write(upserts)
                writer.archive(deletes)  # type: ignore[attr-defined]
    except BaseException:
        # unblock and finish the producer before the transaction is rolled back
        while producer.is_alive():
            try:
                chunks.get(timeout=0.1)
            except queue.Empty:
                continue
        raise
    finally:
        producer.join()
    writer.close()
    return writer


def _check_names(collection_name: str, entity_type: str, source_type: str, source_name: str | None) -> None:
    if not COLLECTION_NAME.match(collection_name or ""):
        raise InvalidInput(
            "collection names are 1-100 letters, digits, '_', '-' or '.', starting with a letter or digit"
        )
    if not entity_type or not entity_type.strip():
        raise ValidationFailed("entity_type is required")
    if len(entity_type) > 100:
        raise ValidationFailed("entity_type is longer than 100 characters")
    if len(source_type) > 40:
        raise ValidationFailed("source_type is longer than 40 characters")
    if source_name is not None and len(source_name) > 200:
        raise ValidationFailed("source_name is longer than 200 characters")


def ingest_records(
    db: Executor,
    *,
    tenant_id: uuid.UUID,
    collection_name: str,
    records: Iterable[Mapping[str, Any] | ParsedRow | RowError],
    entity_type: str,
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
    started = time.perf_counter()
    _check_names(collection_name, entity_type, source_type, source_name)
    key_fields = parse_key_fields(key_column)
    mode = parse_mode(mode)
    if deleted_column is not None and (not isinstance(deleted_column, str) or not deleted_column.strip()):
        raise ValidationFailed("deleted_column must be a field name", extra={"field": "deleted_column"})
    ingestion_id = uuid.uuid4()
    tally = _Tally()
    digest = hashlib.sha256() if file_hash is None else None
    rows = _as_rows(records)
    first, leading = _first_row(rows, tally)
    if first is not None and not isinstance(first.fields.get("collection_data"), Mapping):
        name_col = choose_name_column(columns or list(first.fields), first.fields, name_column)
    else:
        name_col = name_column
    preparer = _Preparer(entity_type.strip(), name_col, tally, digest)

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
        keys = _KeyTally() if key_fields is not None else None
        preparer.key_fields = key_fields
        preparer.deleted_column = deleted_column.strip() if deleted_column else None
        writer = _write(
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
    def of(cls, writer: StagedWriter, keys: _KeyTally | None, valid: int) -> _Counts:
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


def ingest_file(
    db: Executor,
    *,
    tenant_id: uuid.UUID,
    collection_name: str,
    data: bytes | Path,
    filename: str | None = None,
    entity_type: str,
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
    raw = read_upload(data, max_bytes=max_bytes)
    _check_names(collection_name, entity_type, source_type, source_name)
    source = parse_file(raw, filename=filename, file_format=file_format, record_tag=record_tag)
    return ingest_records(
        db,
        tenant_id=tenant_id,
        collection_name=collection_name,
        records=source.rows,
        entity_type=entity_type,
        source_type=source_type,
        source_name=source_name or filename,
        generation=generation,
        create_collection=create_collection,
        name_column=name_column,
        columns=source.columns or None,
        file_hash=f"sha256:{hashlib.sha256(raw).hexdigest()}",
        filename=filename,
        file_format=source.format,
        encoding=source.encoding,
        key_column=key_column,
        deleted_column=deleted_column,
        mode=mode,
    )
