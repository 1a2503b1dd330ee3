"""Row preparation: a parsed row becomes the tuple the staging COPY writes (or a soft delete, or a
RowError); keyed chunks keep the last row of each key."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import core.settings
from core.ingestion.keys import KeyMissing, is_deleted, key_of
from core.ingestion.limits import RecordLimits, record_size_problem, shape_problem
from core.ingestion.naming import choose_name_column
from core.ingestion.rows import ParsedRow, RowError
from core.records.content import content_hash_of_json, value_kind
from core.records.identifiers import extract_identifiers

MAX_ERRORS_REPORTED = 1000
MAX_NAME_LENGTH = 2000
_ENCODE = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=str
).encode


@dataclass(slots=True)
class Tally:
    """What one ingestion has counted so far: valid and rejected rows, the first errors, field kinds."""

    valid: int = 0
    rejected: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    kinds: set[tuple[str, str]] = field(default_factory=set)

    def reject(self, error: RowError) -> None:
        self.rejected += 1
        if len(self.errors) < MAX_ERRORS_REPORTED:
            self.errors.append(error.as_dict())


class RowPreparer:
    """Turns parsed rows into staging tuples (name, type, data JSON, description, hash, identifiers)."""

    def __init__(self, record_type: str, name_column: str | None, tally: Tally, digest: Any | None,
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
                return DeletedRow(keyed[0])
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
class DeletedRow:
    """A row whose soft-delete column says deleted: its record is archived."""

    key: str


class KeyedChunk:
    """One chunk of a keyed ingestion: at most one row per key (the last one wins), earlier rows of
    the same key reported as replaced in file with their lines."""

    def __init__(self, keys: KeyTally) -> None:
        self.keys = keys
        self.rows: list[tuple | None] = []
        self.deletes: dict[str, None] = {}
        self._at: dict[str, int] = {}
        self._new_here: set[str] = set()  # keys first met in this chunk (not written by an earlier one)

    def __len__(self) -> int:
        return len(self.rows) + len(self.deletes)

    def add(self, line: int, prepared: tuple | DeletedRow) -> None:
        deleted = isinstance(prepared, DeletedRow)
        key = prepared.key if deleted else prepared[6]
        keys = self.keys
        earlier = keys.seen.get(key)
        keys.seen[key] = line
        if earlier is None:  # the common case: a key met for the first time
            self._new_here.add(key)
        else:
            keys.replaced(key, earlier, line)
            index = self._at.pop(key, None)
            if index is not None:  # the same key earlier in this chunk: that row is dropped
                self.rows[index] = None
            self.deletes.pop(key, None)
            keys.deleted.discard(key)
        if deleted:
            self.deletes[key] = None
            keys.deleted.add(key)
            return
        self._at[key] = len(self.rows)
        if earlier is not None and key not in self._new_here:
            # seen_before: an earlier chunk wrote this key
            prepared = (*prepared[:7], True)  # type: ignore[misc]
        self.rows.append(prepared)

    def seal(self) -> tuple[list[tuple], list[str]]:
        """The chunk's rows and soft-deleted keys."""
        return [r for r in self.rows if r is not None], list(self.deletes)


@dataclass(slots=True)
class KeyTally:
    """Every key of a keyed ingestion (the last line of each), and the rows replaced in file."""

    seen: dict[str, int] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)  # keys whose last row is a soft delete
    replaced_count: int = 0
    replaced_lines: list[dict[str, Any]] = field(default_factory=list)

    def replaced(self, key: str, line: int, by: int) -> None:
        self.replaced_count += 1
        if len(self.replaced_lines) < MAX_ERRORS_REPORTED:
            self.replaced_lines.append({"line": line, "replaced_by_line": by, "key": key})


def as_rows(records: Iterable[Any]) -> Iterator[ParsedRow | RowError]:
    for number, item in enumerate(records, start=1):
        if isinstance(item, ParsedRow | RowError):
            yield item
        elif isinstance(item, Mapping):
            yield ParsedRow(number, dict(item))
        else:
            yield RowError(number, None, f"expected an object, found {type(item).__name__}")


def first_row(
    rows: Iterator[ParsedRow | RowError], tally: Tally
) -> tuple[ParsedRow | None, list[RowError]]:
    """Read up to the first parsed row (errors before it are kept in order)."""
    leading: list[RowError] = []
    for item in rows:
        if isinstance(item, RowError):
            leading.append(item)
            continue
        return item, leading
    return None, leading
