"""Request and response shapes of the portal's blue-green replace routes (the contract's fields)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from api.ingest.schemas import IngestionMetadata, IngestionSummary, ingestion_view
from core import generations
from core.generations import CancelResult, StagingProgress, SwapResult
from core.generations.record_changes import RecordChanges


@dataclass
class AutoPromoteBody:
    """Switch auto-promotion of a ready staging generation on or off."""

    enabled: bool


class StagingView(msgspec.Struct):
    generation: int
    status: str
    vertical: str


class ReplaceStarted(msgspec.Struct):
    """The ingestion result plus the staging generation it created."""

    ingestion_id: str
    status: str
    summary: IngestionSummary
    errors: list[dict[str, Any]]
    metadata: IngestionMetadata
    staging: StagingView

    @classmethod
    def of(cls, started: generations.ReplaceStarted) -> ReplaceStarted:
        ingestion = ingestion_view(started.ingestion)
        return cls(
            ingestion_id=ingestion.ingestion_id,
            status=ingestion.status,
            summary=ingestion.summary,
            errors=ingestion.errors,
            metadata=ingestion.metadata,
            staging=StagingView(generation=started.staging_generation, status="staging", vertical=started.collection),
        )


class RecordChangesStruct(msgspec.Struct):
    """A keyed collection's replace relative to the live generation, by record key."""

    added: int
    changed: int
    removed: int

    @classmethod
    def of(cls, changes: RecordChanges) -> RecordChangesStruct:
        return cls(changes.added, changes.changed, changes.removed)


class ReplaceStatusView(msgspec.Struct, omit_defaults=True):
    """Embedding progress of the pending replace (every field null when none is pending).
    `record_changes` only for keyed collections with a pending replace."""

    has_pending_replace: bool
    staging_generation: int | None
    staging_status: str | None
    total: int | None
    indexed: int | None
    pending: int | None
    processing: int | None
    failed: int | None
    ready_to_swap: bool | None
    record_changes: RecordChangesStruct | msgspec.UnsetType = msgspec.UNSET

    @classmethod
    def of(cls, progress: StagingProgress | None) -> ReplaceStatusView:
        if progress is None:
            return cls(False, None, None, None, None, None, None, None, None)
        counts, changes = progress.counts, progress.record_changes
        return cls(
            has_pending_replace=True,
            staging_generation=progress.staging.number,
            staging_status=progress.staging.status,
            total=sum(counts.values()),
            indexed=counts["indexed"],
            pending=counts["pending"],
            processing=counts["processing"],
            failed=counts["failed"],
            ready_to_swap=progress.ready_to_swap,
            record_changes=msgspec.UNSET if changes is None else RecordChangesStruct.of(changes),
        )


class SwapView(msgspec.Struct, omit_defaults=True):
    """The swap's outcome: the generation that went live and the one archived, with their counts
    (and, for keyed collections, the records added, changed and removed)."""

    vertical: str
    old_generation: int
    new_generation: int
    old_entity_count: int
    new_entity_count: int
    record_changes: RecordChangesStruct | msgspec.UnsetType = msgspec.UNSET

    @classmethod
    def of(cls, result: SwapResult) -> SwapView:
        changes = result.record_changes
        return cls(
            vertical=result.collection,
            old_generation=result.old_generation,
            new_generation=result.new_generation,
            old_entity_count=result.old_entity_count,
            new_entity_count=result.new_entity_count,
            record_changes=msgspec.UNSET if changes is None else RecordChangesStruct.of(changes),
        )


class CancelView(msgspec.Struct):
    """The cancelled staging generation and how many of its records were archived."""

    vertical: str
    cancelled_generation: int
    entities_archived: int

    @classmethod
    def of(cls, result: CancelResult) -> CancelView:
        return cls(
            vertical=result.collection,
            cancelled_generation=result.cancelled_generation,
            entities_archived=result.entities_archived,
        )


class AutoPromoteView(msgspec.Struct):
    vertical: str
    auto_promote: bool
