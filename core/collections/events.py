"""Data events of a collection: what a write did, for whoever shows the data path (Dagster).

The core functions that write a collection's data (ingestion, swaps, exports, landing files, embedding
runs) describe what they did as a `CollectionEvent` and `emit` it after their commit. Core never
imports Dagster: a process that wants the events registers a sink (`set_sink`; the API's reports
runless materializations, `api/asset_events.py`), and a Dagster run collects the events of the core
calls it makes with `capturing()` and logs them as its own materializations
(`orchestration/collection_events.py`). Without either, emitting costs nothing.

Partition keys are what an operator reads: `<tenant name>/<collection name>` (`partition_key`);
ids go in the metadata. A sink that fails is logged and never fails the write.
"""

from __future__ import annotations

import contextvars
import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from core.ingestion.pipeline import IngestionResult

log = logging.getLogger(__name__)

RECORDS = "collection_records"
EMBEDDINGS = "collection_embeddings"
GENERATION = "collection_generation"
EXPORTS = "collection_exports"
LANDING = "landing_files"
PARTITIONS_NAME = "collections"
SEPARATOR = "/"

Sink = Callable[["CollectionEvent"], None]
_SINK: Sink | None = None
_CAPTURE: contextvars.ContextVar[list[CollectionEvent] | None] = contextvars.ContextVar(
    "kariz_collection_events", default=None
)


def partition_key(tenant_name: str, collection: str) -> str:
    """The readable partition of a collection: `<tenant name>/<collection>`."""
    return f"{tenant_name}{SEPARATOR}{collection}"


@dataclass(frozen=True)
class CollectionEvent:
    """One write to one collection's stage of the data path (`asset`), with what it did."""

    asset: str
    tenant_id: uuid.UUID
    tenant_name: str
    collection_id: uuid.UUID
    collection: str
    description: str
    metadata: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def partition(self) -> str:
        return partition_key(self.tenant_name, self.collection)

    def full_metadata(self) -> dict[str, Any]:
        """The write's metadata with the ids an operator may need (partitions show names only)."""
        return {
            "tenant": self.tenant_name,
            "tenant_id": str(self.tenant_id),
            "collection": self.collection,
            "collection_id": str(self.collection_id),
            **self.metadata,
        }


def records_metadata(
    result: IngestionResult,
    *,
    source_type: str,
    source_name: str | None,
    active_records: int | None,
) -> dict[str, Any]:
    """What an operator reads on an ingestion's `collection_records` (and `landing_files`) event, from
    the API and the landing zone alike: the counts (the keyed ones only when the collection has a
    record key), file hash and format, source, duration and the active records of the generation it
    wrote after it (tenant and collection names and ids are added by the event)."""
    metadata: dict[str, Any] = {
        "ingestion_id": str(result.ingestion_id),
        "status": result.status,
        "generation": result.generation,
        "rows_submitted": result.submitted,
        "rows_accepted": result.accepted,
        "rows_rejected": result.rejected,
        "rows_deduplicated": result.dedup_skipped,
        "source_type": source_type,
        "source": source_name or "",
        "duration_ms": result.processing_time_ms,
    }
    if result.file_hash:
        metadata["file_hash"] = result.file_hash
    if result.file_format:
        metadata["file_format"] = result.file_format
    if result.record_key:
        metadata.update(
            record_key=", ".join(result.record_key),
            mode=result.mode,
            records_inserted=result.inserted,
            records_updated=result.updated,
            records_unchanged=result.unchanged,
            records_archived=result.archived,
        )
    if active_records is not None:
        metadata["active_records"] = active_records
    return metadata


def set_sink(sink: Sink | None) -> Sink | None:
    """Send events to `sink` from now on (None: drop them); returns the previous sink."""
    global _SINK
    previous, _SINK = _SINK, sink
    return previous


@contextmanager
def capturing() -> Iterator[list[CollectionEvent]]:
    """Collect the events emitted inside the block (in this context) instead of sending them."""
    found: list[CollectionEvent] = []
    token = _CAPTURE.set(found)
    try:
        yield found
    finally:
        _CAPTURE.reset(token)


def emit(event: CollectionEvent) -> None:
    """Hand the event to the capture in progress, else to the sink. Never raises."""
    captured = _CAPTURE.get()
    if captured is not None:
        captured.append(event)
        return
    sink = _SINK
    if sink is None:
        return
    try:
        sink(event)
    except Exception as exc:  # noqa: BLE001 - the write committed; reporting it must not undo that
        log.warning(
            "could not report %s of %s (%s: %s)", event.asset, event.partition, type(exc).__name__, exc
        )


@dataclass(frozen=True)
class CollectionNames:
    tenant_id: uuid.UUID
    tenant_name: str
    collection_id: uuid.UUID
    collection: str

    @property
    def partition(self) -> str:
        return partition_key(self.tenant_name, self.collection)

    def event(
        self,
        asset: str,
        description: str,
        metadata: dict[str, Any] | None = None,
        tags: dict[str, str] | None = None,
    ) -> CollectionEvent:
        return CollectionEvent(
            asset,
            self.tenant_id,
            self.tenant_name,
            self.collection_id,
            self.collection,
            description,
            dict(metadata or {}),
            dict(tags or {}),
        )


def names_of(session: Session, collection_id: uuid.UUID) -> CollectionNames | None:
    """The tenant and collection names of a collection id (None when it is gone)."""
    return _names_where(session, "c.id = :c", {"c": collection_id})


def after_ingestion(
    session: Session, collection_id: uuid.UUID, generation: int
) -> tuple[CollectionNames | None, int | None]:
    """The names of the collection an ingestion wrote and the records its generation holds now
    (`record_count`, as `active_records` on the ingestion's event); None for what is gone."""
    row = session.execute(
        sa.text(
            "SELECT t.id AS tenant_id, t.name AS tenant_name, c.id AS collection_id, c.name AS collection, "
            "g.record_count FROM collections c JOIN tenants t ON t.id = c.tenant_id "
            "LEFT JOIN generations g ON g.collection_id = c.id AND g.number = :g WHERE c.id = :c"
        ),
        {"c": collection_id, "g": generation},
    ).first()
    if row is None:
        return None, None
    return CollectionNames(
        row.tenant_id, row.tenant_name, row.collection_id, row.collection
    ), row.record_count


def resolve_partition(session: Session, key: str) -> CollectionNames | None:
    """The collection a partition key names (None when no collection has that key). Collection
    names hold no `/`, so the key splits at its last one; tenant names may hold any."""
    tenant_name, sep, collection = key.rpartition(SEPARATOR)
    if not sep:
        return None
    return _names_where(session, "t.name = :t AND c.name = :n", {"t": tenant_name, "n": collection})


def all_partition_keys(session: Session) -> set[str]:
    """The partition key of every collection."""
    rows = session.execute(
        sa.text(
            "SELECT t.name AS tenant_name, c.name AS collection FROM collections c JOIN tenants t ON t.id = c.tenant_id"
        )
    )
    return {partition_key(r.tenant_name, r.collection) for r in rows}


def names_by_name(session: Session, tenant_id: uuid.UUID, collection: str) -> CollectionNames | None:
    """The names of the tenant's collection called `collection` (None when it has none)."""
    return _names_where(session, "t.id = :t AND c.name = :n", {"t": tenant_id, "n": collection})


def _names_where(session: Session, condition: str, params: dict) -> CollectionNames | None:
    """The names of the one collection `condition` (a fixed SQL condition, never user text) picks."""
    row = session.execute(
        sa.text(
            "SELECT t.id AS tenant_id, t.name AS tenant_name, c.id AS collection_id, c.name AS collection "
            f"FROM collections c JOIN tenants t ON t.id = c.tenant_id WHERE {condition}"
        ),
        params,
    ).first()
    if row is None:
        return None
    return CollectionNames(row.tenant_id, row.tenant_name, row.collection_id, row.collection)
