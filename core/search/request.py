"""A search request and its response, as the contract names them; validation raises InvalidInput."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

import msgspec
import yaml

from core.errors import InvalidInput

MAX_QUERY_LENGTH = 500
MAX_LIMIT = 100
MAX_OFFSET = 100_000
FORMATS = ("json", "compact", "yaml")
# search_mode: absent or "auto" picks hybrid or fulltext by itself (core/search/hybrid.py)
SEARCH_MODES = ("auto", "fulltext", "semantic", "hybrid")


def _holds_nul(value: Any) -> bool:
    """True when a string inside `value` (a filter object, list or text) holds a NUL character."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return False


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """What a caller asks: `query` (1-500 chars, optional with filters), paging, sort, format, filters;
    `search_mode` (auto, fulltext, semantic, hybrid) and `semantic_weight` (0-1, hybrid's share of the
    vector ranking) as `core.search.hybrid` describes."""

    query: str | None = None
    limit: int = 20
    offset: int = 0
    sort: str | None = None
    format: str = "json"
    filters: dict[str, Any] = field(default_factory=dict)
    search_mode: str | None = None
    semantic_weight: float | None = None

    def validated(self) -> SearchRequest:
        """This request with the query stripped; InvalidInput for anything out of the contract's range."""
        query = self.query.strip() if isinstance(self.query, str) else self.query
        if query is not None and not isinstance(query, str):
            raise InvalidInput("query must be text")
        if query is not None and len(query) > MAX_QUERY_LENGTH:
            raise InvalidInput(f"query is {len(query)} characters; the maximum is {MAX_QUERY_LENGTH}")
        if self.query is not None and not query and not self.filters:
            raise InvalidInput("query must be 1-500 characters")
        if not isinstance(self.filters, dict):
            raise InvalidInput("filters must be an object of field names to values")
        if not query and not self.filters:
            raise InvalidInput("a query is required unless filters are given")
        if _holds_nul(query) or _holds_nul(self.sort) or _holds_nul(self.filters):
            raise InvalidInput("the search contains a NUL byte, which text values cannot hold")
        if (
            isinstance(self.limit, bool)
            or not isinstance(self.limit, int)
            or not 1 <= self.limit <= MAX_LIMIT
        ):
            raise InvalidInput(f"limit must be an integer from 1 to {MAX_LIMIT}")
        if (
            isinstance(self.offset, bool)
            or not isinstance(self.offset, int)
            or not 0 <= self.offset <= MAX_OFFSET
        ):
            raise InvalidInput(f"offset must be an integer from 0 to {MAX_OFFSET}")
        if self.format not in FORMATS:
            raise InvalidInput(f"format must be one of {', '.join(FORMATS)}")
        sort = self.sort.strip() if isinstance(self.sort, str) else self.sort
        if sort is not None and not isinstance(sort, str):
            raise InvalidInput("sort must be a field name, optionally prefixed with '-'")
        if self.search_mode is not None and self.search_mode not in SEARCH_MODES:
            raise InvalidInput(f"search_mode must be one of {', '.join(SEARCH_MODES)}")
        weight = self.semantic_weight
        if weight is not None and (
            isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 <= weight <= 1
        ):
            raise InvalidInput("semantic_weight must be a number from 0 to 1")
        mode = None if self.search_mode == "auto" else self.search_mode
        return SearchRequest(
            query or None,
            self.limit,
            self.offset,
            sort or None,
            self.format,
            self.filters,
            mode,
            None if weight is None else float(weight),
        )

    def cache_token(self) -> str:
        """A stable text for this request (the format is applied after the cache)."""
        return json.dumps(
            [
                self.query,
                self.limit,
                self.offset,
                self.sort,
                self.filters,
                self.search_mode,
                self.semantic_weight,
            ],
            sort_keys=True,
            separators=(",", ":"),
            default=str,
        )


@dataclass(slots=True)
class SearchHit:
    """One result, with the contract's field names."""

    record_id: str
    name: str
    score: float
    collection: str
    record_type: str
    collection_data: dict[str, Any]
    description_llm: str | None
    source_type: str
    updated_at: str
    # why it ranked: exact_name, identifier, name_prefix, fulltext, semantic, fuzzy or filter
    match: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The result's fields, shallow (`dataclasses.asdict` deep-copies `collection_data`: measured
        as a fifth of the API's own time per search)."""
        return {name: getattr(self, name) for name in _HIT_FIELDS}


_HIT_FIELDS = tuple(f.name for f in fields(SearchHit))


@dataclass(slots=True)
class SearchResponse:
    """`results`, `pagination {offset, limit, has_more}` and `metadata` as in the contract."""

    results: list[SearchHit]
    offset: int
    limit: int
    has_more: bool
    search_mode: str
    query_type: str
    processing_time_ms: float
    total_estimate: int
    zero_result_fallback_used: bool
    cache_hit: bool
    timings: dict[str, float]
    format: str = "json"
    # why vectors were wanted but full text answered (core/search/hybrid.py), else None
    vector_fallback_reason: str | None = None
    # nothing matched the query as written: these results are names one typo away (match: fuzzy)
    fuzzy_match_used: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The response body for `json` and `yaml`; `compact` keeps id, name, score and data per result."""
        if self.format == "compact":
            results = [
                {
                    "record_id": h.record_id,
                    "name": h.name,
                    "score": h.score,
                    "collection_data": h.collection_data,
                }
                for h in self.results
            ]
        else:
            results = [h.as_dict() for h in self.results]
        metadata: dict[str, Any] = {
            "search_mode": self.search_mode,
            "query_type": self.query_type,
            "processing_time_ms": self.processing_time_ms,
            "total_estimate": self.total_estimate,
            "zero_result_fallback_used": self.zero_result_fallback_used,
            "cache_hit": self.cache_hit,
            "timings": self.timings,
        }
        if self.fuzzy_match_used:  # present only when the query as written matched nothing
            metadata["fuzzy_match_used"] = True
        if self.vector_fallback_reason is not None or self.search_mode in ("semantic", "hybrid"):
            # present whenever vectors were considered: did full text have to answer instead, and why
            metadata["vector_fallback_used"] = self.vector_fallback_reason is not None
            metadata["vector_fallback_reason"] = self.vector_fallback_reason
        return {
            "results": results,
            "pagination": {"offset": self.offset, "limit": self.limit, "has_more": self.has_more},
            "metadata": metadata,
        }

    def render(self) -> tuple[bytes, str]:
        """(body, media type) in the requested format."""
        body = self.to_dict()
        if self.format == "yaml":
            return yaml.safe_dump(body, sort_keys=False, allow_unicode=True).encode(), "application/yaml"
        return msgspec.json.encode(body), "application/json"


def iso_utc(value: datetime) -> str:
    """`2026-03-05T14:30:00Z` for an aware datetime."""
    text = value.isoformat()
    return text.replace("+00:00", "Z")


def hit_from_row(row: Any, score: float, collection: str, match: str | None = None) -> SearchHit:
    """A result from a row holding a record's hit fields (sql.HIT_COLUMNS); `match` defaults to the
    row's own `match` column."""
    return SearchHit(
        record_id=str(row.id),
        name=row.name,
        score=round(min(max(float(score), 0.0), 1.0), 4),
        collection=collection,
        record_type=row.record_type,
        collection_data=row.collection_data,
        description_llm=row.description_llm,
        source_type=row.source_type,
        updated_at=iso_utc(row.updated_at),
        match=match if match is not None else getattr(row, "match", None),
    )
