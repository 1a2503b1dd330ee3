"""The search request body (POST); GET takes `q`, `limit`, `offset` as query parameters."""

from __future__ import annotations

from typing import Any

import msgspec

from core.search.request import SearchRequest


class SearchBody(msgspec.Struct, forbid_unknown_fields=True):
    query: str | None = None
    limit: int = 20
    offset: int = 0
    sort: str | None = None
    format: str = "json"
    filters: dict[str, Any] = msgspec.field(default_factory=dict)
    search_mode: str | None = None
    semantic_weight: float | None = None

    def to_request(self) -> SearchRequest:
        return SearchRequest(
            query=self.query, limit=self.limit, offset=self.offset, sort=self.sort, format=self.format,
            filters=self.filters, search_mode=self.search_mode, semantic_weight=self.semantic_weight,
        )


class LatencyPercentiles(msgspec.Struct):
    p50: float | None
    p95: float | None
    p99: float | None


class SearchHealthView(msgspec.Struct):
    """Search quality of this API process over its recent window."""

    status: str
    searches_total: int
    window: int
    latency_ms: LatencyPercentiles
    zero_result_rate: float
    fallback_count: int
    vector_fallback_count: int
    cache_hits: int
    search_modes: dict[str, int]


class SearchHitView(msgspec.Struct):
    """One result. `compact` answers carry only record_id, name, score and collection_data."""

    record_id: str
    name: str
    score: float
    collection_data: dict[str, Any]
    collection: str | None = None
    record_type: str | None = None
    description_llm: str | None = None
    source_type: str | None = None
    updated_at: str | None = None
    # why it ranked: exact_name, identifier, name_prefix, fulltext, semantic, fuzzy or filter
    match: str | None = None


class SearchPaginationView(msgspec.Struct):
    offset: int
    limit: int
    has_more: bool


class SearchMetadataView(msgspec.Struct):
    """How the answer was found; the vector fields appear whenever vectors were considered, the
    fuzzy flag only when names one typo away answered."""

    search_mode: str
    query_type: str
    processing_time_ms: float
    total_estimate: int
    zero_result_fallback_used: bool
    cache_hit: bool
    timings: dict[str, float]
    vector_fallback_used: bool | None = None
    vector_fallback_reason: str | None = None
    fuzzy_match_used: bool | None = None


class SearchResultView(msgspec.Struct):
    """The search answer (`format=json` or `compact`; `yaml` is the same document as YAML)."""

    results: list[SearchHitView]
    pagination: SearchPaginationView
    metadata: SearchMetadataView
