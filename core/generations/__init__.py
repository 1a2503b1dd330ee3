"""Generations of a collection and the blue-green replace (see `core.generations.service`)."""

from core.generations.service import (
    CancelResult,
    CollectionRef,
    GenerationRef,
    PromotionCandidate,
    SwapResult,
    archive_generation_records,
    cancel_replace,
    drop_expired_vectors,
    generations_awaiting_record_archival,
    promotion_candidates,
    reconcile_aliases,
    replace_status,
    set_auto_promote,
    start_replace,
    swap,
)

__all__ = [
    "CancelResult",
    "CollectionRef",
    "GenerationRef",
    "PromotionCandidate",
    "SwapResult",
    "archive_generation_records",
    "cancel_replace",
    "drop_expired_vectors",
    "generations_awaiting_record_archival",
    "promotion_candidates",
    "reconcile_aliases",
    "replace_status",
    "set_auto_promote",
    "start_replace",
    "swap",
]
