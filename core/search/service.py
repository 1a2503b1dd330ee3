"""`search()`: one collection of one tenant, full-text and identifier search with filters, sort and paging."""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import core.settings
from core.errors import NotFound
from core.records.names import MIN_FUZZY_KEY
from core.search import hybrid, reads, sql
from core.search.cache import SearchCache, cache_key, get_search_cache
from core.search.classify import QueryPlan, classify_query
from core.search.field_indexes import indexed_fields
from core.search.filters import Condition, Sort, default_filter_sort, parse_filters, parse_sort
from core.search.request import SearchHit, SearchRequest, SearchResponse, hit_from_row


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)


async def _estimate(session: sql.Reader, match: sql.Statement) -> int:
    plan = await reads.fetch_value(session, sql.planner_estimate(match).sql, match.params)
    return int(plan[0]["Plan"]["Plan Rows"]) if isinstance(plan, list) else sql.COUNT_CAP + 1


async def _total(
    session: sql.Reader, match: sql.Statement, *, at_least: int = 0, estimate_first: bool = False
) -> int:
    """Exact up to COUNT_CAP, else the planner's estimate (never below `at_least`, matches already seen).
    `estimate_first`: when the planner's estimate is well past the cap (ESTIMATE_TRUSTED), it is the
    answer without counting; for filters on indexed fields, whose statistics make it close (counting
    a thousand of a hundred thousand matches still reads every entry of the index bitmap)."""
    estimate = None
    if estimate_first:
        estimate = await _estimate(session, match)
        if estimate >= sql.ESTIMATE_TRUSTED:
            return max(estimate, at_least)
    if at_least <= sql.COUNT_CAP:
        total = await reads.fetch_value(session, sql.capped_count(match).sql, match.params)
        if total <= sql.COUNT_CAP:
            return int(total)
    if estimate is None:
        estimate = await _estimate(session, match)
    return int(max(estimate, sql.COUNT_CAP + 1, at_least))


@dataclass(frozen=True, slots=True)
class Fields:
    """A generation's field catalog ({field: [kinds]}) and which of its fields have a valid field index."""

    catalog: dict[str, list[str]]
    indexed: frozenset[str]


_FIELDS: OrderedDict[tuple[uuid.UUID, int, int], Fields] = OrderedDict()
CATALOGS_KEPT = 1024


async def search_fields(session: sql.Reader, collection_id: uuid.UUID, generation: int, version: int) -> Fields:
    """The generation's field catalog and indexed fields, kept per search version: every write that
    can change them (records, a field index built or dropped) bumps the version, so what is kept is
    never stale (and a search reads it without planning the aggregate again)."""
    key = (collection_id, generation, version)
    fields = _FIELDS.get(key)
    if fields is None:
        params = {"collection": collection_id, "generation": generation}
        catalog = await reads.fetch_value(session, sql.FIELDS, params)
        indexed = await indexed_fields(session, collection_id, generation, catalog)
        fields = _FIELDS[key] = Fields(catalog, indexed)
        while len(_FIELDS) > CATALOGS_KEPT:
            _FIELDS.popitem(last=False)
    return fields


async def _run(
    session: sql.Reader,
    plan: QueryPlan | None,
    conditions: list[Condition],
    sort: Sort | None,
    params: dict[str, Any],
    request: SearchRequest,
    *,
    any_word: bool = False,
    filter_score: float = 1.0,
) -> tuple[list[Any], bool, int]:
    """One page of rows (id, score, the record's fields), whether more follow, and the total."""
    if plan is None and sort is None:
        sort = default_filter_sort(conditions)
    statement = sql.page(
        plan,
        conditions,
        sort,
        params,
        limit=request.limit,
        offset=request.offset,
        any_word=any_word,
        filter_score=filter_score,
    )
    statement = sql.with_hits(statement, sort, relevance=plan is not None)
    rows = await reads.fetch(session, statement.sql, statement.params)
    total = await page_total(
        session, rows, plan, conditions, sort, params, limit=request.limit, offset=request.offset, any_word=any_word
    )
    return rows[: request.limit], len(rows) > request.limit, total


async def _fuzzy(
    session: sql.Reader,
    plan: QueryPlan,
    conditions: list[Condition],
    sort: Sort | None,
    params: dict[str, Any],
    request: SearchRequest,
) -> tuple[list[Any], bool, int]:
    """The one-typo answer: records whose name is one edit from the query (sql.fuzzy)."""
    statement = sql.with_hits(
        sql.fuzzy(plan, conditions, sort, params, limit=request.limit, offset=request.offset), sort, relevance=True
    )
    rows = await reads.fetch(session, statement.sql, statement.params)
    total = int(rows[0].candidates) if rows else 0
    return rows[: request.limit], len(rows) > request.limit, total


async def page_total(
    session: sql.Reader,
    rows: list[Any],
    plan: QueryPlan | None,
    conditions: list[Condition],
    sort: Sort | None,
    params: dict[str, Any],
    *,
    limit: int,
    offset: int,
    any_word: bool = False,
) -> int:
    """The total of a page statement's `rows` (`limit + 1` fetched): the page itself when it holds the
    whole result, the ranked candidates when every match was one, else counted again (exact up to
    COUNT_CAP, the planner's estimate beyond)."""
    shown = min(len(rows), limit)
    if offset == 0 and len(rows) <= limit:
        return shown  # the whole result is on this page
    candidates = int(rows[0].candidates) if rows and plan is not None else 0
    if candidates and (sort is not None or candidates < sql.rank_candidates(any_word=any_word)):
        total = candidates  # every match was ranked: exact, without scanning the index again
    else:
        match = sql.matches(plan, conditions, params, any_word=any_word)
        estimate_first = plan is None and bool(conditions) and all(c.indexed for c in conditions)
        total = await _total(session, match, at_least=candidates, estimate_first=estimate_first)
    return max(total, offset + shown)


async def search(
    session: sql.Reader,
    tenant_id: uuid.UUID,
    collection_name: str,
    request: SearchRequest,
    *,
    cache: SearchCache | None = None,
) -> SearchResponse:
    """Search the active generation of a tenant's collection (active records only).

    NotFound when the tenant has no such collection (another tenant's is invisible); InvalidInput for
    a query over 500 characters, limit outside 1-100, unknown filter or sort fields, filter values of
    the wrong type. Scores are 0-1, an exact identifier match scores 1.0 and ranks first. With filters
    and no match for the query, the filters alone answer (`zero_result_fallback_used`). Identical
    requests are served from the cache until the collection is written to.
    """
    started = time.perf_counter()
    request = request.validated()
    settings = core.settings.get_settings()
    found = await reads.fetch(session, sql.COLLECTION, {"tenant": tenant_id, "name": collection_name})
    if not found:
        raise NotFound(f"collection '{collection_name}' not found")
    collection_id, generation, version = found[0]
    cache = cache if cache is not None else get_search_cache(settings.redis_url)
    key = cache_key(tenant_id, collection_id, generation, version, request.cache_token())
    cached = await cache.get(key)
    if cached is not None:
        return _from_cache(cached, request, started)

    t0 = time.perf_counter()
    plan = classify_query(request.query)
    if request.filters or request.sort:
        fields = await search_fields(session, collection_id, generation, version)
    else:
        fields = Fields({}, frozenset())
    conditions = parse_filters(request.filters, fields.catalog, fields.indexed)
    sort = parse_sort(request.sort, fields.catalog, fields.indexed)
    classify_ms = _ms(t0)

    # semantic and hybrid answers (core/search/hybrid.py); full text below answers when vectors cannot
    vector_fallback = None
    mode = hybrid.requested_mode(request, plan, sort)
    if mode != "fulltext":
        target = hybrid.Target(tenant_id, collection_id, collection_name, generation)
        answer = await hybrid.search_with_vectors(
            session, target, request, plan, conditions, mode, started=started, classify_ms=classify_ms
        )
        if isinstance(answer, SearchResponse):
            await _remember(cache, key, answer, settings.search_cache_ttl_s)
            return answer
        vector_fallback = answer

    t0 = time.perf_counter()
    params = sql.base_params(tenant_id, collection_id, generation)
    query_plan = plan if plan.text else None
    rows, has_more, total = await _run(session, query_plan, conditions, sort, params, request)
    if not rows and query_plan is not None and query_plan.query_type == "keyword" and request.offset == 0:
        # every word together matched nothing: any of them
        rows, has_more, total = await _run(
            session, query_plan, conditions, sort, params, request, any_word=True
        )
    fuzzy = False
    if (
        not rows
        and query_plan is not None
        and request.offset == 0
        and sql.name_key_length(query_plan.text) >= MIN_FUZZY_KEY
    ):
        # nothing matched, not even one word: a name one typo away
        rows, has_more, total = await _fuzzy(session, query_plan, conditions, sort, params, request)
        fuzzy = bool(rows)
    fallback = False
    if not rows and query_plan is not None and conditions and request.offset == 0:
        rows, has_more, total = await _run(session, None, conditions, sort, params, request, filter_score=0.0)
        fallback = True
    search_ms = _ms(t0)

    t0 = time.perf_counter()  # the records' fields came with the page (sql.with_hits)
    hits = [hit_from_row(row, row.score, collection_name) for row in rows]
    hydrate_ms = _ms(t0)

    exact = plan.query_type == "identifier" and any(row.match == "identifier" for row in rows) and not fallback
    response = SearchResponse(
        results=hits,
        offset=request.offset,
        limit=request.limit,
        has_more=has_more,
        search_mode="identifier" if exact else "fulltext",
        query_type=plan.query_type,
        processing_time_ms=_ms(started),
        total_estimate=total,
        zero_result_fallback_used=fallback,
        fuzzy_match_used=fuzzy,
        cache_hit=False,
        timings={"classify_ms": classify_ms, "search_ms": search_ms, "hydrate_ms": hydrate_ms},
        format=request.format,
        vector_fallback_reason=vector_fallback,
    )
    if vector_fallback not in hybrid.TRANSIENT_FALLBACKS:  # an outage's answer must not outlive it
        await _remember(cache, key, response, settings.search_cache_ttl_s)
    return response


_CACHED_FIELDS = (
    "offset",
    "limit",
    "has_more",
    "search_mode",
    "query_type",
    "total_estimate",
    "zero_result_fallback_used",
    "fuzzy_match_used",
    "vector_fallback_reason",
)


async def _remember(cache: SearchCache, key: str, response: SearchResponse, ttl: int) -> None:
    if ttl > 0:  # with the cache off, the entry is not even built
        await cache.set(key, _to_cache(response), ttl)


def _to_cache(response: SearchResponse) -> dict[str, Any]:
    return {
        "results": [h.as_dict() for h in response.results],
        **{f: getattr(response, f) for f in _CACHED_FIELDS},
    }


def _from_cache(cached: dict[str, Any], request: SearchRequest, started: float) -> SearchResponse:
    return SearchResponse(
        results=[SearchHit(**h) for h in cached["results"]],
        **{f: cached[f] for f in _CACHED_FIELDS},
        processing_time_ms=_ms(started),
        cache_hit=True,
        timings={"classify_ms": 0.0, "search_ms": 0.0, "hydrate_ms": 0.0},
        format=request.format,
    )
