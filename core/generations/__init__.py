"""Generations of a collection and the blue-green replace, one module a job: `lookups` (reading,
readiness), `replace` (starting a replace), `swapping` (swap, cancel, auto-promote switch) and
`maintenance` (what Dagster runs in the background)."""

from core.generations.lookups import (
    CollectionRef,
    GenerationRef,
    StagingProgress,
    fully_indexed,
    get_collection,
    nothing_unfinished,
    replace_status,
    staging_generation,
)
from core.generations.maintenance import (
    ARCHIVE_BATCH,
    PromotionCandidate,
    archive_generation_records,
    drop_expired_vectors,
    generations_awaiting_record_archival,
    promotion_candidates,
    reconcile_aliases,
)
from core.generations.replace import ReplaceStarted, check_quota, start_replace
from core.generations.swapping import CancelResult, SwapResult, cancel_replace, set_auto_promote, swap

__all__ = [
    "ARCHIVE_BATCH",
    "CancelResult",
    "CollectionRef",
    "GenerationRef",
    "PromotionCandidate",
    "ReplaceStarted",
    "StagingProgress",
    "SwapResult",
    "archive_generation_records",
    "cancel_replace",
    "check_quota",
    "drop_expired_vectors",
    "fully_indexed",
    "generations_awaiting_record_archival",
    "get_collection",
    "nothing_unfinished",
    "promotion_candidates",
    "reconcile_aliases",
    "replace_status",
    "set_auto_promote",
    "staging_generation",
    "start_replace",
    "swap",
]
