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

from core.records.identifiers import one_typo_variants
from core.records.names import MIN_PREFIX_KEY
from core.records.names import name_key as _python_name_key
from core.search.classify import QueryPlan
from core.search.field_indexes import field_expression
from core.search.filters import Condition, Sort

# total_estimate is an exact count up to this many matches, the planner's estimate beyond
COUNT_CAP = 1_000
# relevance is ranked over at most this many matches (the exact identifier matches always included);
# a broad keyword over a million records would otherwise rank every match to show twenty. Each
# ranked match is a heap read (its tsvector and scope), which is where a broad query's time goes at
# 1M records (2,000 of them: 20-90 ms of 25-100 ms); one past COUNT_CAP, so a page that ranked every
# match still knows the exact total without counting again, and a capped one goes to the estimate.
# Measured at 1M (bench/README.md, "Keyword search at 1M: fewer heap reads"): the top 10 of 300
# broad queries kept 99.98% of their score mass against 2,000 (the first matches in heap order were
# ranked either way: past the cap, both rank a sample of equally matching records)
RANK_CANDIDATES = COUNT_CAP + 1
# the any-word fallback (every word together matched nothing) ranks more: its matches share one word
# or all of them, so which ones are ranked matters more, and it runs only after the first found
# nothing (bench/relevance.py: hybrid recall@10 0.85 -> 0.83 when it ranked 1,001 of 2,048 records)
ANY_WORD_RANK_CANDIDATES = 2000
# a planner estimate this far past the cap is taken as the total without counting (indexed filters)
ESTIMATE_TRUSTED = 10 * COUNT_CAP
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
# ts_rank with length normalisation (1: divided by 1 + log(document length), so a long record that
# mentions the words once does not outrank a short one about them; measured by bench/search_peer.py:
# known-item top-1 93% -> 97% on Debian summaries), r in [0, ~1] mapped to r / (r + 0.1): a strong
# name match ~0.9, a weak data-only match ~0.01
_RANK_JOIN = ", LATERAL (SELECT ts_rank(r.search_text, {tsq}, 1) AS rk) k"
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
        if cond.indexed:
            # the field index's own expression: the name as a literal (a plain name, see
            # field_indexes), and equality as `=`, which a btree serves (`@>` on a scalar is the same)
            ref = field_expression(cond.field)
        else:
            params[key] = cond.field
            ref = f"r.collection_data -> CAST(:{key} AS text)"
        if cond.op == "eq" and cond.indexed:
            params[val] = json.dumps(cond.values[0])
            parts.append(f"{ref} = CAST(:{val} AS jsonb)")
        elif cond.op == "eq":
            params[val] = json.dumps({cond.field: cond.values[0]})
            parts.append(f"r.collection_data @> CAST(:{val} AS jsonb)")
        elif cond.op == "in":
            params[val] = json.dumps(list(cond.values))
            parts.append(f"{ref} = ANY(ARRAY(SELECT jsonb_array_elements(CAST(:{val} AS jsonb))))")
        else:
            params[val] = json.dumps(cond.values[0])
            comparison = f"{ref} {cond.op} CAST(:{val} AS jsonb)"
            if not cond.single_kind:
                # the type check keeps comparisons within one JSON type (numbers as numbers)
                params[f"ft{i}"] = cond.json_type
                comparison = f"jsonb_typeof({ref}) = :ft{i} AND {comparison}"
            parts.append(comparison)
    return "".join(f" AND {p}" for p in parts)


def _field_index_scope(conditions: list[Condition], sort: Sort | None, params: dict[str, Any]) -> str:
    """The scope again as literals when a field index may serve the statement: a partial index is
    used only when the planner can prove its predicate, which bound parameters of a generic plan
    never prove (uuid and int formatted here, nothing from the request)."""
    if not any(c.indexed for c in conditions) and not (sort is not None and sort.indexed):
        return ""
    collection = uuid.UUID(str(params["collection"]))
    return f" AND r.collection_id = '{collection}' AND r.generation = {int(params['generation'])}"


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
    if sort.indexed:
        value = field_expression(sort.field)
    else:
        params["sort_key"] = sort.field
        value = "r.collection_data -> CAST(:sort_key AS text)"
    return f", {value} AS sort_value, r.name AS sort_name, r.updated_at AS sort_updated"


def _indexed_sort(select: str, where: str, sort: Sort) -> str:
    """`select ... where` in `sort`'s order read from the field's index, to :limit + :offset rows.
    `ORDER BY f DESC NULLS LAST` is no scan order of an index on (f, id), so the records holding the
    field and those without it are two legs, each in index order, then merged."""
    ref = field_expression(sort.field)
    direction = "DESC" if sort.descending else "ASC"
    return (
        f"SELECT * FROM (({select} WHERE {where} AND {ref} IS NOT NULL ORDER BY {ref} {direction}, r.id "
        f"LIMIT :window) UNION ALL ({select} WHERE {where} AND {ref} IS NULL ORDER BY {ref}, r.id "
        f"LIMIT :window)) s"
    )


def base_params(tenant_id: uuid.UUID, collection_id: uuid.UUID, generation: int) -> dict[str, Any]:
    return {"tenant": tenant_id, "collection": collection_id, "generation": generation}


# --- name matches (migration 0012_name_match) -------------------------------------------------
# the query's name key equals / starts the record's: the btree over kariz_name_key(name) in byte order
_ROW_KEY = "kariz_name_key(r.name)"
_NAME_KEY = f'{_ROW_KEY} COLLATE "C"'
_QUERY_KEY = "kariz_name_key(CAST(:q AS text))"
_EXACT_NAME = f"{_NAME_KEY} = {_QUERY_KEY}"
# a prefix as a range, so the index is used even by generic plans (LIKE needs a constant pattern)
_NAME_PREFIX = f"{_NAME_KEY} > {_QUERY_KEY} AND {_NAME_KEY} < {_QUERY_KEY} || U&'\\+10FFFF'"
#: name-prefix matches score in (NAME_PREFIX_FLOOR, 1.0): above every full-text score, the longer
#: the query's share of the name the higher
NAME_PREFIX_FLOOR = 0.99
NAME_PREFIX_LIMIT = 50
#: the name-prefix leg reads at most this many prefix matches in key order before keeping the
#: NAME_PREFIX_LIMIT shortest: a short query that starts thousands of names ("runtime library" at 1M:
#: 7,679) would otherwise read every one of them from the heap to sort them by length (85-300 ms)
NAME_PREFIX_SCAN = 200
_PREFIX_SCORE = f"{NAME_PREFIX_FLOOR} + 0.009 * length({_QUERY_KEY})::float8 / greatest(length({_ROW_KEY}), 1)"
#: one typo (a letter added, dropped, replaced, or two swapped): trigram candidates from the GIN
#: index, confirmed by edit distance (a swap is two edits that keep the length); below prefixes
_FUZZY = (
    f"{_ROW_KEY} % {_QUERY_KEY} AND levenshtein_less_equal({_ROW_KEY}, {_QUERY_KEY}, 2) "
    f"<= CASE WHEN length({_ROW_KEY}) = length({_QUERY_KEY}) THEN 2 ELSE 1 END"
)
FUZZY_SCORE = 0.9
#: a misspelt or partial identifier: candidates are records holding one of the query's one-typo
#: variants (the identifiers' GIN, exact lookups) or whose identifiers' trigrams hold the query's
#: (ix_records_identifier_trgm, migration 0017, for a part of an identifier: `840A2` of `SSM840A2`);
#: each is confirmed identifier by identifier and scored by its closest one (a typo above a part).
#: The fuzzy legs carry no LIMIT of their own: with one, the planner expects to meet enough rows
#: early in a sequential scan and reads the whole table (30 s at 1M), without it each leg is a
#: bitmap scan of its index (10-150 ms at 1M)
_QUERY_IDENTIFIER = "CAST(:identifier AS text)"
_IDENTIFIER_CANDIDATES = (
    "r.identifiers && CAST(:typos AS text[])",
    f"r.identifiers <> '{{}}' AND {_QUERY_IDENTIFIER} <% kariz_identifier_text(r.identifiers)",
)
_CLOSEST_IDENTIFIER = (
    f"SELECT max(similarity(i, {_QUERY_IDENTIFIER})) AS similar FROM unnest(r.identifiers) i "
    f"WHERE i = ANY(CAST(:typos AS text[])) OR (right(i, 1) <> '*' AND strpos(i, {_QUERY_IDENTIFIER}) > 0)"
)


def _name_legs(where: str, cols: str, *, prefix: bool) -> list[str]:
    """The exact-name leg (score 1.0) and, when asked, the name-prefix leg, as UNION ALL parts."""
    legs = [
        f"SELECT r.id, CAST(1.0 AS float8) AS score, 'exact_name' AS match{cols} FROM records r "
        f"WHERE {where} AND {_EXACT_NAME}"
    ]
    if prefix:
        # the first NAME_PREFIX_SCAN in the index's (key) order, then the shortest of them
        source = (
            f"(SELECT r.* FROM records r WHERE {where} AND {_NAME_PREFIX} ORDER BY {_NAME_KEY} "
            f"LIMIT {NAME_PREFIX_SCAN}) r"
        )
        legs.append(
            f"(SELECT r.id, {_PREFIX_SCORE} AS score, 'name_prefix' AS match{cols} FROM {source} "
            f"ORDER BY length(r.name), r.id LIMIT {NAME_PREFIX_LIMIT})"
        )
    return legs


def _ranked(legs: list[str], sort: Sort | None) -> str:
    """UNION ALL of `legs`, each record once at its best score, in the page's order with the count."""
    union = " UNION ALL ".join(legs)
    best = f"SELECT DISTINCT ON (id) * FROM ({union}) u ORDER BY id, score DESC"
    return (
        f"SELECT *, {_CANDIDATES} FROM ({best}) m ORDER BY {_order(sort, relevance=True)} "
        "LIMIT :limit OFFSET :offset"
    )


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
    """(id, score, match) of one page, `limit + 1` rows so the caller sees whether more exist.

    plan None: filters alone (`match` = filter). Text plans put a record whose name equals the query
    (name keys: case, accents and separators folded) first at 1.0 (`exact_name`), identifier plans
    also records whose identifiers equal it (1.0, `identifier`); then keyword plans put records
    whose name starts with the query (`name_prefix`, 0.99-1.0) and rank the rest with full text
    (`fulltext`, below 0.99), identifier plans rank full-text and identifier-prefix matches. Text
    plans also return `candidates`, how many rows were ranked: every match when it is below
    RANK_CANDIDATES (or with a sort, which ranks every match), so the total needs no second index
    scan. The any-word fallback (`any_word`) leaves the name legs out: it runs only when they, and
    every word together, found nothing."""
    params = dict(params)
    conds = _conditions(conditions, params)
    where = (_SCOPE if plan is None else _SCOPE_AS_FILTER) + conds
    cols = _sort_columns(sort, params)
    params.update(limit=limit + 1, offset=offset)
    cap = "" if sort is not None else f" LIMIT {rank_candidates(any_word=any_word)}"
    if plan is None:
        params["filter_score"] = filter_score
        where += _field_index_scope(conditions, sort, params)
        select = f"SELECT r.id, CAST(:filter_score AS float8) AS score, 'filter' AS match{cols} FROM records r"
        if sort is not None and sort.indexed:
            params["window"] = limit + 1 + offset
            inner = _indexed_sort(select, where, sort)
        else:
            inner = f"{select} WHERE {where}"
        return Statement(
            f"SELECT * FROM ({inner}) m ORDER BY {_order(sort, relevance=False)} LIMIT :limit OFFSET :offset",
            params,
        )
    params["q"] = plan.text
    # the name legs read the (collection, generation, name key) btree: the scope as index conditions
    name_where = _SCOPE + conds
    key_length = 0 if any_word else name_key_length(plan.text)
    if plan.query_type == "identifier":
        params["identifier"] = plan.identifier
        params["prefix"] = plan.identifier.lower() + ":*"
        exact = (
            f"SELECT r.id, CAST(1.0 AS float8) AS score, 'identifier' AS match{cols} FROM records r "
            f"WHERE {where} AND {_EXACT}"
        )
        rank_join = _RANK_JOIN.format(tsq=_IDENTIFIER_TSQUERY)
        others = (
            f"SELECT * FROM (SELECT r.id, {_RANK} AS score, 'fulltext' AS match{cols} FROM records r{rank_join} "
            f"WHERE {where} AND r.search_text @@ {_IDENTIFIER_TSQUERY} AND NOT {_EXACT}{cap}) o"
        )
        legs = [exact, others]
        if key_length:
            legs = _name_legs(name_where, cols, prefix=False) + legs
        return Statement(_ranked(legs, sort), params)
    tsq = _ANY_KEYWORD if any_word else _KEYWORD
    fulltext = (
        f"SELECT * FROM (SELECT r.id, {_RANK} AS score, 'fulltext' AS match{cols} FROM records r"
        f"{_RANK_JOIN.format(tsq=tsq)} WHERE {where} AND r.search_text @@ {tsq}{cap}) f"
    )
    legs = [fulltext]
    if key_length:
        legs = _name_legs(name_where, cols, prefix=key_length >= MIN_PREFIX_KEY) + legs
    return Statement(_ranked(legs, sort), params)


def rank_candidates(*, any_word: bool) -> int:
    """How many matches a page statement ranks at most (without a sort)."""
    return ANY_WORD_RANK_CANDIDATES if any_word else RANK_CANDIDATES


def name_key_length(text: str | None) -> int:
    """How long the query's name key is (0: nothing a name could equal)."""
    return len(_python_name_key(text)) if text else 0


def exact_names(plan: QueryPlan, conditions: list[Condition], params: dict[str, Any], *, limit: int) -> Statement:
    """(id, score, match) of the records a query names exactly: by name key, and by identifier for
    identifier plans; what semantic mode pins first."""
    params = dict(params, q=plan.text, limit=limit)
    conds = _conditions(conditions, params)
    legs = _name_legs(_SCOPE + conds, "", prefix=False) if name_key_length(plan.text) else []
    if plan.query_type == "identifier":
        params["identifier"] = plan.identifier
        legs.append(
            f"SELECT r.id, CAST(1.0 AS float8) AS score, 'identifier' AS match FROM records r "
            f"WHERE {_SCOPE_AS_FILTER}{conds} AND {_EXACT}"
        )
    if not legs:
        return Statement("SELECT NULL::uuid AS id, 1.0::float8 AS score, '' AS match WHERE false", params)
    union = " UNION ALL ".join(legs)
    return Statement(f"SELECT DISTINCT ON (id) * FROM ({union}) u ORDER BY id LIMIT :limit", params)


def fuzzy(plan: QueryPlan, conditions: list[Condition], sort: Sort | None, params: dict[str, Any], *,
          limit: int, offset: int) -> Statement:
    """(id, score, match) of records whose name key is one edit from the query's, and for identifier
    plans records with an identifier one typo from the query's or containing it (all `fuzzy`, below
    every match of the query as written): the answer when nothing else matched."""
    params = dict(params, q=plan.text, limit=limit + 1, offset=offset)
    # `status` again as a plain condition: what the trigram indexes' predicates need to see
    where = _SCOPE_AS_FILTER + " AND r.status = 'active'" + _conditions(conditions, params)
    cols = _sort_columns(sort, params)
    legs = [
        f"SELECT r.id, CAST({FUZZY_SCORE} AS float8) * similarity({_ROW_KEY}, {_QUERY_KEY}) AS score, "
        f"'fuzzy' AS match{cols} FROM records r WHERE {where} AND {_FUZZY}"
    ]
    if plan.query_type == "identifier" and plan.identifier:
        params["identifier"] = plan.identifier
        params["typos"] = one_typo_variants(plan.identifier)
        legs += [
            f"SELECT r.id, CAST({FUZZY_SCORE} AS float8) * ci.similar AS score, 'fuzzy' AS match{cols} "
            f"FROM records r, LATERAL ({_CLOSEST_IDENTIFIER}) ci WHERE {where} AND {candidates} "
            "AND ci.similar IS NOT NULL"
            for candidates in _IDENTIFIER_CANDIDATES
        ]
    return Statement(_ranked(legs, sort), params)


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
        where += _field_index_scope(conditions, None, params)
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
