"""Every SQL statement of search, in one module. User text only ever reaches PostgreSQL as bind
parameters: query text, identifiers, filter values, and field names (as JSONB keys). The fragments
composed here come from fixed strings chosen by the parsed request, never from its text."""

from __future__ import annotations

import functools
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from core.search.classify import QueryPlan
from core.search.filters import Condition, Sort

# relevance is ranked over at most this many matches (the exact identifier matches always included);
# a broad keyword over a million records would otherwise rank every match to show twenty
RANK_CANDIDATES = 2000
# total_estimate is an exact count up to this many matches, the planner's estimate beyond
COUNT_CAP = 1_000
FULLTEXT_SCALE = 0.99  # full-text scores stay below an exact identifier match (1.0)

# the collection, its active generation and its search version (bumped by every write)
COLLECTION = sa.text(
    "SELECT c.id, c.active_generation, coalesce(v.version, 0) AS version "
    "FROM collections c LEFT JOIN search_versions v ON v.collection_id = c.id "
    "WHERE c.tenant_id = :tenant AND c.name = :name"
)
# the field catalog of a generation: {field: [kinds]} (what filters and sorts may name)
FIELDS = sa.text(
    "SELECT coalesce(jsonb_object_agg(f.field, f.kinds), '{}'::jsonb) FROM ("
    "  SELECT field, array_agg(kind ORDER BY kind) AS kinds FROM collection_fields "
    "  WHERE collection_id = :collection AND generation = :generation GROUP BY field) f"
)

# what a hit shows of its record, joined to a page's rows (`hit.` prefixed)
HIT_COLUMNS = "hit.name, hit.record_type, hit.collection_data, hit.description_llm, hit.source_type, hit.updated_at"

_SCOPE = (
    "r.tenant_id = :tenant AND r.collection_id = :collection AND r.generation = :generation "
    "AND r.status = 'active'"
)
# the same scope as a plain filter, for text matches: they come from the GIN indexes and stop at a
# LIMIT, while ANDing them with a bitmap of the whole collection (the planner's usual pick) reads
# every index entry of the collection first
_SCOPE_AS_FILTER = f"({_SCOPE}) IS TRUE"
_KEYWORD = "websearch_to_tsquery('english', :q)"
# the same words, any of them: the fallback when all of them match nothing
_ANY_KEYWORD = "CAST(replace(CAST(websearch_to_tsquery('english', :q) AS text), ' & ', ' | ') AS tsquery)"
_IDENTIFIER_TSQUERY = f"({_KEYWORD} || to_tsquery('simple', :prefix))"
_EXACT = "r.identifiers @> ARRAY[CAST(:identifier AS text)]"
# ts_rank r in [0, ~1] mapped to r / (r + 0.1): a strong name match ~0.9, a weak data-only match ~0.01
_RANK_JOIN = ", LATERAL (SELECT ts_rank(r.search_text, {tsq}) AS rk) k"
_RANK = f"{FULLTEXT_SCALE} * k.rk / (k.rk + 0.1)"
# the ranked set's size, counted while it is sorted anyway (the window runs before LIMIT/OFFSET)
_CANDIDATES = "count(*) OVER () AS candidates"


# a search builds its SQL from a bounded set of fixed fragments: one TextClause per distinct text
text_clause = functools.lru_cache(maxsize=1024)(sa.text)
# what search statements run on: the API's autocommit connection, or a session (tests, Dagster)
Reader = AsyncSession | AsyncConnection


@dataclass(slots=True)
class Statement:
    """SQL text plus its bind parameters."""

    sql: str
    params: dict[str, Any] = field(default_factory=dict)

    def clause(self) -> sa.TextClause:
        return text_clause(self.sql)


def _conditions(conditions: list[Condition], params: dict[str, Any]) -> str:
    parts: list[str] = []
    for i, cond in enumerate(conditions):
        key, val = f"fk{i}", f"fv{i}"
        params[key] = cond.field
        ref = f"r.collection_data -> CAST(:{key} AS text)"
        if cond.op == "eq":
            params[val] = json.dumps({cond.field: cond.values[0]})
            parts.append(f"r.collection_data @> CAST(:{val} AS jsonb)")
        elif cond.op == "in":
            params[val] = json.dumps(list(cond.values))
            parts.append(f"{ref} IN (SELECT jsonb_array_elements(CAST(:{val} AS jsonb)))")
        else:
            params[val] = json.dumps(cond.values[0])
            params[f"ft{i}"] = cond.json_type
            # the type check keeps comparisons within one JSON type (numbers as numbers)
            parts.append(f"jsonb_typeof({ref}) = :ft{i} AND {ref} {cond.op} CAST(:{val} AS jsonb)")
    return "".join(f" AND {p}" for p in parts)


def _order(sort: Sort | None, *, relevance: bool) -> str:
    if sort is None:
        return "score DESC, id" if relevance else "id"
    direction = "DESC" if sort.descending else "ASC"
    if sort.is_column:
        column = {"name": "sort_name", "updated_at": "sort_updated"}[sort.field]
        return f"{column} {direction}, id"
    return f"sort_value {direction} NULLS LAST, id"


def _sort_columns(sort: Sort | None, params: dict[str, Any]) -> str:
    if sort is None:
        return ""
    if sort.is_column:
        return ", r.name AS sort_name, r.updated_at AS sort_updated"
    params["sort_key"] = sort.field
    return ", r.collection_data -> CAST(:sort_key AS text) AS sort_value, r.name AS sort_name, r.updated_at AS sort_updated"


def base_params(tenant_id: uuid.UUID, collection_id: uuid.UUID, generation: int) -> dict[str, Any]:
    return {"tenant": tenant_id, "collection": collection_id, "generation": generation}


def page(
    plan: QueryPlan | None,
    conditions: list[Condition],
    sort: Sort | None,
    params: dict[str, Any],
    *,
    limit: int,
    offset: int,
    any_word: bool = False,
    filter_score: float = 1.0,
) -> Statement:
    """(id, score) of one page, `limit + 1` rows so the caller sees whether more exist.

    plan None: filters alone. Identifier plans put exact identifier matches (score 1.0) first, then
    full-text and identifier-prefix matches; keyword plans rank full-text matches. Text plans also
    return `candidates`, how many rows were ranked: every match when it is below RANK_CANDIDATES (or
    with a sort, which ranks every match), so the total needs no second index scan."""
    params = dict(params)
    where = (_SCOPE if plan is None else _SCOPE_AS_FILTER) + _conditions(conditions, params)
    cols = _sort_columns(sort, params)
    params.update(limit=limit + 1, offset=offset)
    cap = "" if sort is not None else f" LIMIT {RANK_CANDIDATES}"
    if plan is None:
        params["filter_score"] = filter_score
        inner = f"SELECT r.id, CAST(:filter_score AS float8) AS score{cols} FROM records r WHERE {where}"
        return Statement(
            f"SELECT * FROM ({inner}) m ORDER BY {_order(sort, relevance=False)} LIMIT :limit OFFSET :offset",
            params,
        )
    params["q"] = plan.text
    if plan.query_type == "identifier":
        params["identifier"] = plan.identifier
        params["prefix"] = plan.identifier.lower() + ":*"
        exact = f"SELECT r.id, CAST(1.0 AS float8) AS score{cols} FROM records r WHERE {where} AND {_EXACT}"
        rank_join = _RANK_JOIN.format(tsq=_IDENTIFIER_TSQUERY)
        others = (
            f"SELECT * FROM (SELECT r.id, {_RANK} AS score{cols} FROM records r{rank_join} WHERE {where} "
            f"AND r.search_text @@ {_IDENTIFIER_TSQUERY} AND NOT {_EXACT}{cap}) o"
        )
        union = f"{exact} UNION ALL {others}"
        return Statement(
            f"SELECT *, {_CANDIDATES} FROM ({union}) m ORDER BY {_order(sort, relevance=True)} "
            "LIMIT :limit OFFSET :offset",
            params,
        )
    tsq = _ANY_KEYWORD if any_word else _KEYWORD
    inner = (
        f"SELECT r.id, {_RANK} AS score{cols} FROM records r{_RANK_JOIN.format(tsq=tsq)} "
        f"WHERE {where} AND r.search_text @@ {tsq}{cap}"
    )
    return Statement(
        f"SELECT *, {_CANDIDATES} FROM ({inner}) m ORDER BY {_order(sort, relevance=True)} "
        "LIMIT :limit OFFSET :offset",
        params,
    )


def with_hits(page_statement: Statement, sort: Sort | None, *, relevance: bool) -> Statement:
    """`page_statement`'s rows with their records' fields (HIT_COLUMNS), in the page's order: one
    round trip instead of a page and then a lookup of its ids."""
    return Statement(
        f"SELECT page.*, {HIT_COLUMNS} FROM ({page_statement.sql}) page JOIN records hit USING (id) "
        f"ORDER BY {_order(sort, relevance=relevance)}",
        page_statement.params,
    )


def matches(
    plan: QueryPlan | None, conditions: list[Condition], params: dict[str, Any], *, any_word: bool = False
) -> Statement:
    """`SELECT 1 FROM records r WHERE ...` for everything the page statement ranks (uncapped)."""
    params = dict(params)
    where = (_SCOPE if plan is None else _SCOPE_AS_FILTER) + _conditions(conditions, params)
    if plan is None:
        return Statement(f"SELECT 1 FROM records r WHERE {where}", params)
    params["q"] = plan.text
    if plan.query_type == "identifier":
        params["identifier"] = plan.identifier
        params["prefix"] = plan.identifier.lower() + ":*"
        return Statement(
            f"SELECT 1 FROM records r WHERE {where} AND ({_EXACT} OR r.search_text @@ {_IDENTIFIER_TSQUERY})",
            params,
        )
    tsq = _ANY_KEYWORD if any_word else _KEYWORD
    return Statement(f"SELECT 1 FROM records r WHERE {where} AND r.search_text @@ {tsq}", params)


def capped_count(match: Statement) -> Statement:
    """How many rows `match` finds, counting at most COUNT_CAP + 1."""
    return Statement(f"SELECT count(*) FROM ({match.sql} LIMIT {COUNT_CAP + 1}) c", match.params)


def planner_estimate(match: Statement) -> Statement:
    """The planner's row estimate for `match` (EXPLAIN, nothing executed)."""
    return Statement(f"EXPLAIN (FORMAT JSON) {match.sql}", match.params)
