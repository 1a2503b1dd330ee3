"""Request and response shapes of the portal's blue-green replace routes (the contract's fields)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict

import msgspec

from core.generations import CancelResult, SwapResult


@dataclass
class AutoPromoteBody:
    """Switch auto-promotion of a ready staging generation on or off."""

    enabled: bool


class StagingView(TypedDict):
    generation: int
    status: str
    vertical: str


class ReplaceStarted(TypedDict):
    """The ingestion result plus the staging generation it created."""

    ingestion_id: str
    status: str
    summary: dict[str, int]
    errors: list[dict[str, Any]]
    metadata: dict[str, Any]
    staging: StagingView


class RecordChangesView(TypedDict):
    """A keyed collection's replace relative to the live generation, by record key."""

    added: int
    changed: int
    removed: int


class _ReplaceStatusFields(TypedDict):
    has_pending_replace: bool
    staging_generation: int | None
    staging_status: str | None
    total: int | None
    indexed: int | None
    pending: int | None
    processing: int | None
    failed: int | None
    ready_to_swap: bool | None


class ReplaceStatusView(_ReplaceStatusFields, total=False):
    """Embedding progress of the pending replace (every field null when none is pending).
    `record_changes` only for keyed collections with a pending replace. (A subclass with
    total=False, not NotRequired: under postponed annotations TypedDict cannot see NotRequired,
    so the schema listed the field as required.)"""

    record_changes: RecordChangesView


class RecordChangesStruct(msgspec.Struct):
    """A keyed collection's swap relative to the live generation, by record key."""

    added: int
    changed: int
    removed: int


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
            record_changes=msgspec.UNSET
            if changes is None
            else RecordChangesStruct(changes.added, changes.changed, changes.removed),
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


class AutoPromoteView(TypedDict):
    vertical: str
    auto_promote: bool
