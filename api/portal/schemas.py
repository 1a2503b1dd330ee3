"""Request and response shapes of the portal's blue-green replace routes (the contract's fields)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict


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


class ReplaceStatusView(TypedDict):
    record_changes: NotRequired[RecordChangesView]  # keyed collections with a pending replace
    has_pending_replace: bool
    staging_generation: int | None
    staging_status: str | None
    total: int | None
    indexed: int | None
    pending: int | None
    processing: int | None
    failed: int | None
    ready_to_swap: bool | None


class SwapView(TypedDict):
    record_changes: NotRequired[RecordChangesView]  # keyed collections
    vertical: str
    old_generation: int
    new_generation: int
    old_entity_count: int
    new_entity_count: int


class CancelView(TypedDict):
    vertical: str
    cancelled_generation: int
    entities_archived: int


class AutoPromoteView(TypedDict):
    vertical: str
    auto_promote: bool
