"""The landing zone: files dropped into a folder per tenant and collection, ingested once each.

Layout under `settings.landing_dir`:

    <tenant_id>/<collection>/<file>                  entity_type from the sidecar, else "record"
    <tenant_id>/<collection>/<entity_type>/<file>    entity_type from the folder name
    <tenant_id>/<collection>/<file>.meta.json        optional sidecar (written before the file):
        {"entity_type": "...", "record_tag": "...", "name_column": "...", "source_name": "...",
         "format": "csv|json|ndjson|xml|pdf",        every key optional; the sidecar wins over the folder
         "key_column": "...", "deleted_column": "...", "mode": "append|mirror"}   record identity
    <tenant_id>/<collection>/processed/              ingested files (and their sidecars), renamed
                                                     `<UTC time>-<name>`, entity folder kept
    <tenant_id>/<collection>/failed/                 refused files, each beside `<name>.error.txt`

A file is picked up when it is complete: either a marker `<file>.ready` exists, or the file's size
and modification time are unchanged since the previous sensor tick and it is at least
`SETTLE_SECONDS` old. Names starting with `.` or ending in `.part`, `.tmp`, `.partial`,
`.crdownload`, `.filepart`, `.swp` or `~` are never picked up (write under such a name, then rename).
`processed` and `failed` are reserved and cannot be entity folders. Tenant folders whose name is not
the id of an existing tenant are ignored (left alone); symlinks are never followed and every path is
checked to stay inside the landing folder.

Each file is one ingestion through `ingest_file` (source_type `landing_zone`), committed before the
file is moved. Refused files (unreadable, too large, bad sidecar, every row rejected) move to
`failed/` with the reason; an unexpected error (database away) leaves the file where it is, and
touching it (new mtime) asks for a new run.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.errors import InvalidInput, KarizError, Unavailable
from core.ingestion.pipeline import IngestionResult, ingest_file

log = logging.getLogger(__name__)

SOURCE_TYPE = "landing_zone"
PROCESSED = "processed"
FAILED = "failed"
RESERVED = frozenset({PROCESSED, FAILED})
SIDECAR_SUFFIX = ".meta.json"
READY_SUFFIX = ".ready"
ERROR_SUFFIX = ".error.txt"
DEFAULT_ENTITY_TYPE = "record"
SETTLE_SECONDS = 2.0
IN_PROGRESS_SUFFIXES = (".part", ".tmp", ".partial", ".crdownload", ".filepart", ".swp", "~")
_NOT_DATA_SUFFIXES = (SIDECAR_SUFFIX, READY_SUFFIX, ERROR_SUFFIX)
_SIDECAR_KEYS = {
    "entity_type",
    "record_tag",
    "name_column",
    "source_name",
    "format",
    "key_column",
    "deleted_column",
    "mode",
}
MAX_SIDECAR_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class LandingFile:
    """A data file in the landing zone, as one sensor tick saw it."""

    relative: str  # POSIX path under the landing folder: tenant/collection[/entity]/name
    tenant_id: uuid.UUID
    collection: str
    entity_dir: str | None
    size: int
    mtime_ns: int
    marked_ready: bool

    @property
    def name(self) -> str:
        return PurePosixPath(self.relative).name

    @property
    def fingerprint(self) -> tuple[int, int]:
        return (self.size, self.mtime_ns)

    @property
    def run_key(self) -> str:
        """Same path, size and mtime: same key, so Dagster launches one run per version of a file."""
        digest = hashlib.sha256(f"{self.relative}\0{self.size}\0{self.mtime_ns}".encode()).hexdigest()
        return f"landing:{digest[:40]}"


def _is_data_name(name: str) -> bool:
    return not (
        name.startswith(".") or name.endswith(IN_PROGRESS_SUFFIXES) or name.endswith(_NOT_DATA_SUFFIXES)
    )


def _dirs(path: Path) -> Iterator[os.DirEntry]:
    try:
        with os.scandir(path) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False) and not entry.name.startswith("."):
                    yield entry
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return


def _files(path: Path) -> Iterator[os.DirEntry]:
    try:
        with os.scandir(path) as entries:
            for entry in entries:
                if entry.is_file(follow_symlinks=False) and _is_data_name(entry.name):
                    yield entry
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return


def tenant_folders(root: Path) -> dict[uuid.UUID, str]:
    """Folders directly under the landing folder named like a tenant id (others are ignored)."""
    found: dict[uuid.UUID, str] = {}
    for entry in _dirs(root):
        try:
            tenant_id = uuid.UUID(entry.name)
        except ValueError:
            continue
        if str(tenant_id) == entry.name.lower():
            found[tenant_id] = entry.name
    return found


def existing_tenants(db: Session, candidates: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """Those of `candidates` (tenant folders' ids) that are tenants."""
    ids = list(candidates)
    if not ids:
        return set()
    rows = db.execute(sa.text("SELECT id FROM tenants WHERE id = ANY(CAST(:ids AS uuid[]))"), {"ids": ids})
    return set(rows.scalars())


def scan_landing(root: Path, tenants: Iterable[uuid.UUID] | None = None) -> list[LandingFile]:
    """Every data file in the layout (optionally only under the given tenants), oldest first.
    Symlinks, hidden names, in-progress names, sidecars, markers and the reserved folders are skipped."""
    wanted = None if tenants is None else set(tenants)
    files: list[LandingFile] = []
    for tenant_id, tenant_dir in tenant_folders(root).items():
        if wanted is not None and tenant_id not in wanted:
            continue
        for collection in _dirs(root / tenant_dir):
            places: list[tuple[str | None, Path]] = [(None, Path(collection.path))]
            places += [(d.name, Path(d.path)) for d in _dirs(Path(collection.path)) if d.name not in RESERVED]
            for entity_dir, folder in places:
                for entry in _files(folder):
                    stat = entry.stat(follow_symlinks=False)
                    parts = [tenant_dir, collection.name, *([entity_dir] if entity_dir else []), entry.name]
                    files.append(
                        LandingFile(
                            relative="/".join(parts),
                            tenant_id=tenant_id,
                            collection=collection.name,
                            entity_dir=entity_dir,
                            size=stat.st_size,
                            mtime_ns=stat.st_mtime_ns,
                            marked_ready=os.path.isfile(entry.path + READY_SUFFIX)
                            and not os.path.islink(entry.path + READY_SUFFIX),
                        )
                    )
    files.sort(key=lambda f: (f.mtime_ns, f.relative))
    return files


def complete_files(
    files: Iterable[LandingFile], previous: Mapping[str, Any], *, now: float | None = None
) -> tuple[list[LandingFile], dict[str, list[int]]]:
    """The files that are complete (marked ready, or unchanged since `previous` and settled), and
    what to remember for the next tick (`{relative: [size, mtime_ns]}` of every file seen)."""
    now = time.time() if now is None else now
    ready: list[LandingFile] = []
    seen: dict[str, list[int]] = {}
    for f in files:
        seen[f.relative] = [f.size, f.mtime_ns]
        before = previous.get(f.relative)
        settled = (
            before is not None and tuple(before) == f.fingerprint and now - f.mtime_ns / 1e9 >= SETTLE_SECONDS
        )
        if f.marked_ready or settled:
            ready.append(f)
    return ready, seen


def resolve_inside(root: Path, relative: str) -> Path:
    """The file `relative` names under `root`; InvalidInput when it would leave the landing folder,
    does not follow the layout, or passes through a symlink."""
    rel = PurePosixPath(relative)
    if rel.is_absolute() or any(p in ("", ".", "..") for p in rel.parts) or not 3 <= len(rel.parts) <= 4:
        raise InvalidInput(f"not a landing-zone path: {relative!r}")
    try:
        uuid.UUID(rel.parts[0])
    except ValueError:
        raise InvalidInput(f"not a tenant folder: {rel.parts[0]!r}") from None
    if len(rel.parts) == 4 and rel.parts[2] in RESERVED:
        raise InvalidInput(f"not a landing-zone path: {relative!r}")
    base = root.resolve()
    path = base.joinpath(*rel.parts)
    probe = base
    for part in rel.parts:
        probe = probe / part
        if probe.is_symlink():
            raise InvalidInput(f"landing-zone paths may not pass through symlinks: {relative!r}")
    if not path.resolve().is_relative_to(base):
        raise InvalidInput(f"path leaves the landing folder: {relative!r}")
    return path


@dataclass(frozen=True, slots=True)
class LandingOptions:
    """How to read a file: from its sidecar, else its entity folder, else defaults."""

    entity_type: str
    record_tag: str | None = None
    name_column: str | None = None
    source_name: str | None = None
    file_format: str | None = None
    key_column: str | None = None
    deleted_column: str | None = None
    mode: str | None = None


def read_options(path: Path, entity_dir: str | None) -> LandingOptions:
    """The file's options; InvalidInput for a sidecar that is not a JSON object of known text keys."""
    options: dict[str, Any] = {}
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    if sidecar.is_file() and not sidecar.is_symlink():
        if sidecar.stat().st_size > MAX_SIDECAR_BYTES:
            raise InvalidInput(f"sidecar {sidecar.name} is larger than {MAX_SIDECAR_BYTES} bytes")
        try:
            options = json.loads(sidecar.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"sidecar {sidecar.name} is not valid JSON: {exc}") from None
        if not isinstance(options, dict):
            raise InvalidInput(f"sidecar {sidecar.name} must be a JSON object")
        unknown = set(options) - _SIDECAR_KEYS
        if unknown:
            raise InvalidInput(f"sidecar {sidecar.name} has unknown keys: {', '.join(sorted(unknown))}")
        bad = [k for k, v in options.items() if v is not None and not isinstance(v, str)]
        if bad:
            raise InvalidInput(f"sidecar {sidecar.name}: {', '.join(sorted(bad))} must be text")
    return LandingOptions(
        entity_type=options.get("entity_type") or entity_dir or DEFAULT_ENTITY_TYPE,
        record_tag=options.get("record_tag"),
        name_column=options.get("name_column"),
        source_name=options.get("source_name"),
        file_format=options.get("format"),
        key_column=options.get("key_column"),
        deleted_column=options.get("deleted_column"),
        mode=options.get("mode"),
    )


@dataclass(slots=True)
class LandingOutcome:
    """What became of one file: `ingested` (moved to processed/), `refused` (moved to failed/),
    `gone` (already handled), `changed` (rewritten since the sensor saw it; a later tick takes it)
    or `ignored` (unknown tenant)."""

    relative: str
    status: str
    result: IngestionResult | None = None
    reason: str | None = None
    moved_to: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_metadata(self) -> dict[str, Any]:
        """Flat values for a Dagster run's metadata."""
        meta: dict[str, Any] = {"file": self.relative, "outcome": self.status}
        if self.moved_to:
            meta["moved_to"] = self.moved_to
        if self.reason:
            meta["reason"] = self.reason
        if self.result is not None:
            r = self.result
            meta.update(
                {
                    "ingestion_id": str(r.ingestion_id),
                    "status": r.status,
                    "collection": r.collection,
                    "submitted": r.submitted,
                    "accepted": r.accepted,
                    "rejected": r.rejected,
                    "dedup_skipped": r.dedup_skipped,
                    "processing_time_ms": r.processing_time_ms,
                    "file_hash": r.file_hash,
                    "file_format": r.file_format or "",
                    "reconciliation_passed": r.reconciliation_passed,
                    "errors": r.errors[:20],
                }
            )
        return meta


def _unique(path: Path) -> Path:
    if not path.exists():
        return path
    for n in range(1, 10_000):
        candidate = path.with_name(f"{path.name}.{n}")
        if not candidate.exists():
            return candidate
    raise InvalidInput(f"too many files named {path.name}")


def move_out(root: Path, relative: str, to: str, *, error: str | None = None) -> str:
    """Move the file (with its sidecar; its ready marker is removed) to the collection's `to` folder,
    named `<UTC time>-<name>`, the entity folder kept; with `error`, write `<name>.error.txt` beside
    it. Returns the new relative path."""
    rel = PurePosixPath(relative)
    source = root.resolve().joinpath(*rel.parts)
    tenant, collection = rel.parts[0], rel.parts[1]
    entity = rel.parts[2:-1]
    folder = root.resolve().joinpath(tenant, collection, to, *entity)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = _unique(folder / f"{stamp}-{rel.name}")
    os.replace(source, target)
    sidecar = source.with_name(source.name + SIDECAR_SUFFIX)
    if sidecar.is_file() and not sidecar.is_symlink():
        os.replace(sidecar, target.with_name(target.name + SIDECAR_SUFFIX))
    marker = source.with_name(source.name + READY_SUFFIX)
    if marker.is_file() and not marker.is_symlink():
        marker.unlink()
    if error is not None:
        target.with_name(target.name + ERROR_SUFFIX).write_text(error.rstrip() + "\n", encoding="utf-8")
    return target.relative_to(root.resolve()).as_posix()


def _rows_reason(result: IngestionResult) -> str:
    lines = [f"every row was rejected ({result.rejected} rows); first errors:"]
    for err in result.errors[:50]:
        where = f"line {err.get('line')}" if err.get("line") is not None else "file"
        column = f", field {err['field']}" if err.get("field") else ""
        lines.append(f"  {where}{column}: {err.get('reason')}")
    return "\n".join(lines)


def process_landing_file(
    session: Callable[[], AbstractContextManager[Session]],
    root: Path,
    relative: str,
    *,
    size: int,
    mtime_ns: int,
    max_bytes: int | None = None,
) -> LandingOutcome:
    """Ingest one landing-zone file and move it: committed records first, then the move, so a crash
    in between re-ingests the file as duplicates (nothing changes) rather than losing it.

    `session()` yields a Session that commits when its block ends without error (the Dagster
    `DatabaseResource.session`). The file must still have the size and mtime the sensor saw.
    Unexpected errors (database away) propagate and leave the file in place."""
    path = resolve_inside(root, relative)  # InvalidInput: never touch anything outside
    rel = PurePosixPath(relative)
    tenant_id = uuid.UUID(rel.parts[0])
    try:
        stat = path.stat(follow_symlinks=False)
    except FileNotFoundError:
        return LandingOutcome(relative, "gone", reason="already processed or removed")
    if (stat.st_size, stat.st_mtime_ns) != (size, mtime_ns):
        return LandingOutcome(
            relative, "changed", reason="the file changed since it was seen; a later tick takes it"
        )
    with session() as db:
        known = db.execute(sa.text("SELECT 1 FROM tenants WHERE id = :t"), {"t": tenant_id}).scalar()
    if not known:
        return LandingOutcome(relative, "ignored", reason="no such tenant")
    entity_dir = rel.parts[2] if len(rel.parts) == 4 else None
    try:
        options = read_options(path, entity_dir)
        with session() as db:
            result = ingest_file(
                db,
                tenant_id=tenant_id,
                collection_name=rel.parts[1],
                data=path,
                filename=rel.name,
                entity_type=options.entity_type,
                source_type=SOURCE_TYPE,
                source_name=options.source_name or rel.name,
                record_tag=options.record_tag,
                name_column=options.name_column,
                file_format=options.file_format,
                max_bytes=max_bytes,
                key_column=options.key_column,
                deleted_column=options.deleted_column,
                mode=options.mode or "append",
            )
    except Unavailable:
        raise
    except KarizError as exc:
        reason = f"{exc.code}: {exc}"
        moved = move_out(root, relative, FAILED, error=reason)
        log.info("landing file %s refused: %s", relative, reason)
        return LandingOutcome(relative, "refused", reason=reason, moved_to=moved)
    if result.status == "failed":
        reason = _rows_reason(result)
        moved = move_out(root, relative, FAILED, error=reason)
        return LandingOutcome(
            relative, "refused", result=result, reason=reason.splitlines()[0], moved_to=moved
        )
    moved = move_out(root, relative, PROCESSED)
    log.info("landing file %s: %d accepted, %d duplicates", relative, result.accepted, result.dedup_skipped)
    return LandingOutcome(relative, "ingested", result=result, moved_to=moved)
