"""Search: query classification, typed filters, sort, paging, scoring, caching, response formats."""

from core.search.cache import MemorySearchCache, RedisSearchCache, SearchCache, get_search_cache
from core.search.classify import QueryPlan, classify_query
from core.search.request import SearchHit, SearchRequest, SearchResponse
from core.search.service import search

__all__ = [
    "MemorySearchCache",
    "QueryPlan",
    "RedisSearchCache",
    "SearchCache",
    "SearchHit",
    "SearchRequest",
    "SearchResponse",
    "classify_query",
    "get_search_cache",
    "search",
]
