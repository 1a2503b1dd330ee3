"""Responses of the admin API (the contract's shapes)."""

from __future__ import annotations

import msgspec


class IndexingStatus(msgspec.Struct):
    indexed: int
    pending: int
    processing: int
    failed: int


class RecordsByStatus(msgspec.Struct):
    active: int
    archived: int
    draft: int


class StatsView(msgspec.Struct):
    total_records: int
    records_by_status: RecordsByStatus
    indexing_status: IndexingStatus
    queue_depth: int
    counts_exact: bool  # beyond the contract: false when a figure past 10,000 is the planner's estimate


class CollectionReindexView(msgspec.Struct):
    collection: str
    records_reset: int
    message: str
    request_id: str  # beyond the contract: poll `GET /requests/{request_id}` for the run's outcome


class RecordReindexView(msgspec.Struct):
    record_id: str
    status: str
    message: str
