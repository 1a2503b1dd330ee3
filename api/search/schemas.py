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
