"""Semantic and hybrid search: vectors of the active generation, fused with full text.

`search_mode` (a `SearchRequest` field) chooses:
- `fulltext`: full text and identifiers only (`core.search.service`);
- `semantic`: the vector index alone, ranked by cosine similarity;
- `hybrid`: full-text and vector rankings fused by weighted reciprocal rank fusion,
  `score(d) = (1 - w) / (k + rank_fulltext(d)) + w / (k + rank_vector(d))`, `w = semantic_weight`
  (default 0.5, 0 = full text only, 1 = vectors only), `k = 60`;
- absent (or `auto`, the API's default): hybrid when the query is keywords and the collection's
  active generation has vectors, full text otherwise (identifier queries, filter-only requests,
  an explicit `sort`, a collection not yet indexed).

What the query names exactly stays first in every mode: records whose name key equals the query's
(case, accents and separators folded) or whose identifiers equal it score 1.0 and are pinned ahead
of the fusion; each result's `match` says which leg ranked it. Fused and semantic scores are scaled into 0-0.99. Filters apply inside the vector
search (as payload conditions) and again in PostgreSQL, so results always satisfy them.

One generation per answer: the active generation is read once from PostgreSQL (with the collection)
and the vector search reads that generation's own vector collection, never the alias a concurrent
swap may move; records are hydrated from PostgreSQL filtered by the same generation.

Search never fails because embeddings lag: when the vector index is unreachable, the collection is
not indexed yet, or the query cannot be embedded, the answer is the full-text one, and the metadata
says so (`search_mode: fulltext`, `vector_fallback_used: true`, `vector_fallback_reason`).
The vector side is synchronous (`VectorIndex`, the model), so it runs in a worker thread while the
full-text statement runs on the event loop. Only the top `MAX_FUSED` candidates are ranked.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
import sqlalchemy as sa

import core.settings
from core.errors import InvalidInput, KarizError, NotFound, Unavailable
from core.search import sql
from core.search.classify import QueryPlan
from core.search.filters import Condition, Sort
from core.search.request import SearchHit, SearchRequest, SearchResponse, hit_from_row
from core.vectors.base import VectorIndex, vector_collection_name
from core.vectors.filters import Match, MatchAny, Range, VectorFilter
from core.vectors.payloads import data_field

DEFAULT_SEMANTIC_WEIGHT = 0.5
RRF_K = 60
#: hybrid and semantic rank at most this many candidates per leg (pages beyond are empty)
MAX_FUSED = 1000
MIN_DEPTH = 100
SCORE_SCALE = 0.99  # ranked scores stay below an exact identifier match (1.0)
#: the full-text share of the fusion when only the any-word fallback matched (all words matched nothing)
LOOSE_FULLTEXT_FACTOR = 0.5

# fallback reasons, as metadata.vector_fallback_reason reports them
NOT_INDEXED = "not_indexed"
INDEX_UNAVAILABLE = "vector_index_unavailable"
EMBEDDING_UNAVAILABLE = "embedding_unavailable"
NO_QUERY = "no_query"
#: reasons that pass by themselves: such answers are not cached
TRANSIENT_FALLBACKS = (INDEX_UNAVAILABLE, EMBEDDING_UNAVAILABLE)

# records of one generation among candidate ids (the conditions of the request are appended)
_IN_GENERATION = (
    "SELECT r.id FROM records r WHERE r.tenant_id = :tenant AND r.collection_id = :collection "
    "AND r.generation = :generation AND r.status = 'active' AND r.id = ANY(CAST(:candidates AS uuid[]))"
)
_HYDRATE = sa.text(
    f"SELECT hit.id, {sql.HIT_COLUMNS} FROM records hit WHERE hit.tenant_id = :tenant "
    "AND hit.collection_id = :collection AND hit.generation = :generation AND hit.id = ANY(CAST(:ids AS uuid[]))"
)


@dataclass(frozen=True, slots=True)
class Target:
    """What one search reads: a tenant's collection at the generation read once from PostgreSQL."""

    tenant_id: uuid.UUID
    collection_id: uuid.UUID
    collection_name: str
    generation: int

    @property
    def vector_collection(self) -> str:
        return vector_collection_name(self.tenant_id, self.collection_id, self.generation)

    def params(self) -> dict[str, Any]:
        return sql.base_params(self.tenant_id, self.collection_id, self.generation)


def requested_mode(request: SearchRequest, plan: QueryPlan, sort: Sort | None) -> str:
    """`fulltext`, `semantic` or `hybrid`: what the request asks for once `auto` is resolved
    (before knowing whether vectors exist). InvalidInput for `sort` with semantic or hybrid."""
    mode = request.search_mode or "auto"
    if mode == "auto":
        if plan.text is None or plan.query_type == "identifier" or sort is not None:
            return "fulltext"
        return "hybrid"
    if mode != "fulltext" and sort is not None:
        raise InvalidInput(f"sort orders full-text results; {mode} results are ordered by relevance")
    return mode


def vector_filter(conditions: list[Condition]) -> VectorFilter:
    """The payload filter for the vector search: every request condition a payload condition can
    express. The others, and the record's own status, are enforced in PostgreSQL afterwards (a
    filter costs Qdrant's local mode a payload check per point, so none is sent without need)."""
    must: list[Match | MatchAny | Range] = []
    for cond in conditions:
        field = data_field(cond.field)
        values = cond.values
        numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        if cond.op == "eq":
            value = values[0]
            if numbers:  # 10 and 10.0 are one number to PostgreSQL; a point range matches both
                must.append(Range(field, gte=float(value), lte=float(value)))
            else:
                must.append(Match(field, value))
        elif cond.op == "in":
            if all(isinstance(v, str) for v in values) or (
                numbers and all(isinstance(v, int) for v in values)
            ):
                must.append(MatchAny(field, tuple(values)))
        elif cond.json_type == "number":
            bound = float(values[0])
            key = {">=": "gte", "<=": "lte", ">": "gt", "<": "lt"}[cond.op]
            must.append(Range(field, **{key: bound}))
        # ranges over ISO dates and lists of booleans or floats: PostgreSQL alone applies them
    return VectorFilter(tuple(must))


def fuse(
    fulltext: list[tuple[uuid.UUID, float]],
    semantic: list[tuple[uuid.UUID, float]],
    *,
    semantic_weight: float,
    k: int = RRF_K,
) -> list[tuple[uuid.UUID, float]]:
    """Weighted reciprocal rank fusion, best first; exact identifier matches (score >= 1.0 in
    `fulltext`) stay first at 1.0. Scores scale to 0-0.99 (first in both rankings = 0.99)."""
    exact = [(i, 1.0) for i, score in fulltext if score >= 1.0]
    pinned = {i for i, _ in exact}
    weights = (1.0 - semantic_weight, semantic_weight)
    fused: dict[uuid.UUID, float] = {}
    for weight, ranking in zip(weights, (fulltext, semantic), strict=True):
        if weight <= 0:
            continue
        rank = 0
        for record_id, _ in ranking:
            if record_id in pinned:
                continue
            rank += 1
            fused[record_id] = fused.get(record_id, 0.0) + weight / (k + rank)
    best = (k + 1) / sum(weights)  # 1 / (the score of first place in both)
    ordered = sorted(fused.items(), key=lambda item: (-item[1], item[0]))
    return exact + [(i, round(SCORE_SCALE * min(1.0, s * best), 6)) for i, s in ordered]


# --- the vector leg (sync, in a worker thread) ---------------------------------------------------

_QUERY_VECTORS: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
_QUERY_VECTORS_LOCK = threading.Lock()
_QUERY_VECTORS_MAX = 2048


def query_vector(text: str) -> np.ndarray:
    """The query's embedding from the configured provider (recent queries are remembered)."""
    from core.embeddings.factory import get_embedding_provider

    provider = get_embedding_provider(core.settings.get_settings())
    key = (provider.model_name, text)
    with _QUERY_VECTORS_LOCK:
        if key in _QUERY_VECTORS:
            _QUERY_VECTORS.move_to_end(key)
            return _QUERY_VECTORS[key]
    vector = provider.embed_one(text)
    with _QUERY_VECTORS_LOCK:
        _QUERY_VECTORS[key] = vector
        while len(_QUERY_VECTORS) > _QUERY_VECTORS_MAX:
            _QUERY_VECTORS.popitem(last=False)
    return vector


def warm_query_model(settings: core.settings.Settings) -> bool:
    """Load the local query embedding model and run it once (the first call builds the ONNX
    session and its kernels); True when it was loaded. A remote provider is not called."""
    if settings.embedding_provider != "local":
        return False
    try:
        query_vector("warm up")
    except KarizError:  # a missing model answers semantic searches with full text, as at query time
        return False
    return True


def vector_index() -> VectorIndex:
    """The process-wide vector index of the current settings."""
    from core.vectors.factory import get_vector_index

    return get_vector_index(core.settings.get_settings())


@dataclass(slots=True)
class VectorLeg:
    """The vector ranking, or why there is none."""

    hits: list[tuple[uuid.UUID, float]]
    fallback: str | None
    embed_ms: float
    vector_ms: float


def _vector_leg(target: Target, text: str, filter: VectorFilter, depth: int) -> VectorLeg:
    started = time.perf_counter()
    index = vector_index()
    try:
        # a generation no run has embedded yet needs no query embedding (nor the model loaded)
        if not index.collection_exists(target.vector_collection):
            return VectorLeg([], NOT_INDEXED, 0.0, _ms(started))
    except Unavailable:
        return VectorLeg([], INDEX_UNAVAILABLE, 0.0, _ms(started))
    try:
        vector = query_vector(text)
    except KarizError:  # Unavailable (endpoint down, model missing) or InvalidInput from the provider
        return VectorLeg([], EMBEDDING_UNAVAILABLE, _ms(started), 0.0)
    embed_ms = _ms(started)
    started = time.perf_counter()
    try:
        hits = index.search(target.vector_collection, vector, limit=depth, filter=filter)
        if not hits and not index.search(target.vector_collection, vector, limit=1):
            return VectorLeg([], NOT_INDEXED, embed_ms, _ms(started))
    except NotFound:  # no run has embedded this generation yet
        return VectorLeg([], NOT_INDEXED, embed_ms, _ms(started))
    except Unavailable:
        return VectorLeg([], INDEX_UNAVAILABLE, embed_ms, _ms(started))
    return VectorLeg([(h.id, float(h.score)) for h in hits], None, embed_ms, _ms(started))


# --- the async side ------------------------------------------------------------------------------


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)


async def _fulltext_leg(
    session: sql.Reader,
    target: Target,
    plan: QueryPlan,
    conditions: list[Condition],
    depth: int,
    *,
    exact_only: bool,
) -> tuple[list[tuple[uuid.UUID, float, str]], bool]:
    """The full-text ranking as (id, score, match), and whether it is the loose one (any word of the
    query, because all of them together matched nothing). `exact_only`: just the records the query
    names exactly (by name, or by identifier), which semantic mode pins first."""
    params = target.params()
    if exact_only:
        statement = sql.exact_names(plan, conditions, params, limit=depth)
    else:
        statement = sql.page(plan, conditions, None, params, limit=depth, offset=0)
    rows = [
        (r.id, float(r.score), r.match)
        for r in (await session.execute(statement.clause(), statement.params)).all()
    ]
    if exact_only or rows or plan.query_type != "keyword":
        return rows, False
    statement = sql.page(plan, conditions, None, params, limit=depth, offset=0, any_word=True)
    rows = [
        (r.id, float(r.score), r.match)
        for r in (await session.execute(statement.clause(), statement.params)).all()
    ]
    return rows, True


async def warm_legs(session: sql.Reader, plan: QueryPlan) -> None:
    """Run the hybrid answer's statements once for `plan`, on a collection nobody has (id 0): a
    process's first hybrid search then finds them compiled and prepared on `session`'s connection."""
    nobody = uuid.UUID(int=0)
    target = Target(nobody, nobody, "", 0)
    await _fulltext_leg(session, target, plan, [], MIN_DEPTH, exact_only=False)  # and its any-word fallback
    await _fulltext_leg(session, target, plan, [], MIN_DEPTH, exact_only=True)  # semantic mode's exact names
    await _in_generation(session, target, [], [nobody])
    await _hydrate(session, target, [(nobody, 1.0)], {})


def match_labels(
    fulltext: list[tuple[uuid.UUID, float, str]], semantic: list[tuple[uuid.UUID, float]]
) -> dict[uuid.UUID, str]:
    """Why each fused record ranked: the full-text leg's match where it ranked it at least as high
    as the vector leg (exact names and identifiers always), `semantic` otherwise."""
    vector_rank = {record_id: rank for rank, (record_id, _) in enumerate(semantic)}
    labels = {record_id: "semantic" for record_id in vector_rank}
    for rank, (record_id, score, match) in enumerate(fulltext):
        if score >= 1.0 or rank <= vector_rank.get(record_id, rank):
            labels[record_id] = match
    return labels


async def _in_generation(
    session: sql.Reader, target: Target, conditions: list[Condition], ids: list[uuid.UUID]
) -> set[uuid.UUID]:
    """Which vector hits are active records of this generation satisfying every condition."""
    if not ids:
        return set()
    params = {**target.params(), "candidates": ids}
    where = sql._conditions(conditions, params)  # the request's typed conditions, as full text applies them
    rows = await session.execute(sql.text_clause(_IN_GENERATION + where), params)
    return set(rows.scalars())


async def _hydrate(
    session: sql.Reader, target: Target, ranked: list[tuple[uuid.UUID, float]], labels: dict[uuid.UUID, str]
) -> list[SearchHit]:
    if not ranked:
        return []
    params = {**target.params(), "ids": [i for i, _ in ranked]}
    rows = {r.id: r for r in (await session.execute(_HYDRATE, params)).all()}
    return [
        hit_from_row(r, score, target.collection_name, labels.get(record_id, "semantic"))
        for record_id, score in ranked
        if (r := rows.get(record_id)) is not None
    ]


async def search_with_vectors(
    session: sql.Reader,
    target: Target,
    request: SearchRequest,
    plan: QueryPlan,
    conditions: list[Condition],
    mode: str,
    *,
    started: float,
    classify_ms: float,
) -> SearchResponse | str:
    """The `semantic` or `hybrid` answer for a validated request with query text, or the reason
    the caller must answer with full text instead (a fallback reason; see the module docstring)."""
    if plan.text is None:
        return NO_QUERY
    weight = request.semantic_weight if request.semantic_weight is not None else DEFAULT_SEMANTIC_WEIGHT
    if mode == "semantic":
        weight = 1.0
    wanted = request.offset + request.limit
    depth = min(MAX_FUSED, max(MIN_DEPTH, 2 * wanted))
    t0 = time.perf_counter()
    vector_task = asyncio.create_task(
        asyncio.to_thread(_vector_leg, target, plan.text, vector_filter(conditions), depth)
    )
    # semantic mode still pins what the query names exactly; hybrid needs the whole full-text ranking
    exact_only = mode == "semantic" or weight >= 1.0
    try:
        fulltext, loose = await _fulltext_leg(session, target, plan, conditions, depth, exact_only=exact_only)
    finally:
        leg = await vector_task
    if leg.fallback is not None:  # the API counts fallbacks (SEARCH_FALLBACKS) from the response
        return leg.fallback
    valid = await _in_generation(session, target, conditions, [i for i, _ in leg.hits])
    semantic = [(i, s) for i, s in leg.hits if i in valid]
    search_ms = _ms(t0)

    labels = match_labels(fulltext, semantic)
    if mode == "semantic":
        exact = [(i, 1.0) for i, s, _ in fulltext if s >= 1.0]
        pinned = {i for i, _ in exact}
        ranked = exact + [(i, SCORE_SCALE * max(0.0, s)) for i, s in semantic if i not in pinned]
    else:
        if loose:  # a ranking by any one word of the query is weak evidence: it counts half
            weight = weight / (weight + (1.0 - weight) * LOOSE_FULLTEXT_FACTOR)
        ranked = fuse([(i, s) for i, s, _ in fulltext], semantic, semantic_weight=weight)
    page = ranked[request.offset : wanted]
    t0 = time.perf_counter()
    hits = await _hydrate(session, target, page, labels)
    hydrate_ms = _ms(t0)
    return SearchResponse(
        results=hits,
        offset=request.offset,
        limit=request.limit,
        has_more=len(ranked) > wanted,
        search_mode=mode,
        query_type=plan.query_type,
        processing_time_ms=_ms(started),
        total_estimate=len(ranked),
        zero_result_fallback_used=False,
        cache_hit=False,
        timings={
            "classify_ms": classify_ms,
            "search_ms": search_ms,
            "hydrate_ms": hydrate_ms,
            "embed_ms": leg.embed_ms,
            "vector_ms": leg.vector_ms,
        },
        format=request.format,
    )
