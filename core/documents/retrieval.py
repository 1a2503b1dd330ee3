"""Retrieval over a tenant's RAG store: the best chunks for a query, by hybrid ranking.

Full text (`file_chunks.tsv`, `websearch_to_tsquery('english')`, `ts_rank` over at most
`MAX_MATCHES` matches) and the tenant's store vectors are fused by the same weighted reciprocal
rank fusion as record search (`core.search.hybrid.fuse`, k = 60, equal weights). Only chunks of the
tenant's files that are in the store and not excluded are ever returned (checked in PostgreSQL for
every hit, whatever the vector index answered, on the chunk's own `retrievable` and `account_id`,
which triggers keep equal to its file's); deleted files have no chunks. When the vector index or
the model cannot answer, full text alone answers. In hybrid mode the vector leg runs in a worker
thread while PostgreSQL matches full text; full text alone is ranked and hydrated in one statement.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.documents.vectors import store_collection_name
from core.errors import InvalidInput, KarizError
from core.search.hybrid import DEFAULT_SEMANTIC_WEIGHT, fuse
from core.vectors.filters import MatchAny, VectorFilter

log = logging.getLogger(__name__)

MAX_LIMIT = 50
MAX_QUERY_CHARS = 1000
#: full-text matches ranked at most (the best by ts_rank among them)
MAX_MATCHES = 2000
#: candidates per leg before fusion
DEPTH = 50
#: hybrid queries' vector legs, run beside their full-text statement (a few: the vector index's
#: connection pool is small, and more threads would only wait for it)
_VECTOR_LEGS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="store-vectors")

Mode = Literal["hybrid", "fulltext", "semantic"]


@dataclass(frozen=True)
class RetrievedChunk:
    chunk_id: str
    file_id: str
    file_name: str
    account_id: str | None
    page: int | None
    text: str
    score: float


def _scope(account_id: uuid.UUID | None, file_ids: Sequence[uuid.UUID] | None) -> tuple[str, dict]:
    where = ""
    params: dict = {}
    if account_id is not None:
        where += " AND c.account_id = :account"
        params["account"] = account_id
    if file_ids is not None:
        where += " AND c.file_id = ANY(CAST(:files AS uuid[]))"
        params["files"] = [str(i) for i in file_ids]
    return where, params


# a chunk is retrievable while its file is in the store and not excluded (kept by triggers, 0017), so
# the match reads file_chunks alone, through its partial GIN on (tenant_id, tsv)
_VISIBLE = "c.tenant_id = :tenant AND c.retrievable"


def ranked_statement(scope: str) -> str:
    """The best `:depth` of at most `:matches` full-text matches, as (id, score)."""
    return (
        "SELECT m.id, ts_rank(m.tsv, q.q, 32) AS score FROM websearch_to_tsquery('english', :q) AS q(q), "
        f"LATERAL (SELECT c.id, c.tsv FROM file_chunks c WHERE {_VISIBLE}{scope} AND c.tsv @@ q.q "
        "LIMIT :matches) m ORDER BY score DESC, m.id LIMIT :depth"
    )


def _fulltext(session: Session, tenant_id: uuid.UUID, query: str, scope: str, params: dict,
              depth: int) -> list[tuple[uuid.UUID, float]]:
    rows = session.execute(sa.text(ranked_statement(scope)),
                           {**params, "tenant": tenant_id, "q": query, "matches": MAX_MATCHES, "depth": depth}).all()
    return [(r.id, float(r.score)) for r in rows]


def _fulltext_chunks(session: Session, tenant_id: uuid.UUID, query: str, scope: str, params: dict,
                     limit: int) -> list[RetrievedChunk]:
    """Full text alone: ranked and hydrated in one statement (one snapshot)."""
    rows = session.execute(
        sa.text(
            "SELECT r.score, c.id, c.file_id, f.name, c.account_id, c.page, c.text "
            f"FROM ({ranked_statement(scope)}) r JOIN file_chunks c ON c.id = r.id JOIN files f ON f.id = c.file_id "
            "ORDER BY r.score DESC, r.id"
        ),
        {**params, "tenant": tenant_id, "q": query, "matches": MAX_MATCHES, "depth": limit},
    ).all()
    return [_chunk(row, row.score) for row in rows]


def _semantic(tenant_id: uuid.UUID, query: str, account_id: uuid.UUID | None,
              file_ids: Sequence[uuid.UUID] | None, depth: int) -> list[tuple[uuid.UUID, float]]:
    from core.search.hybrid import query_vector, vector_index

    must = []
    if account_id is not None:
        must.append(MatchAny("account_id", (str(account_id),)))
    if file_ids is not None:
        must.append(MatchAny("file_id", tuple(str(i) for i in file_ids)))
    hits = vector_index().search(store_collection_name(tenant_id), query_vector(query), limit=depth,
                                 filter=VectorFilter(tuple(must)) if must else None)
    return [(h.id, h.score) for h in hits]


def retrieve(session: Session, tenant_id: uuid.UUID, query: str, *, account_id: uuid.UUID | None = None,
             file_ids: Sequence[uuid.UUID] | None = None, limit: int = 8,
             mode: Mode = "hybrid") -> list[RetrievedChunk]:
    """The `limit` chunks of the tenant's store that best answer `query`, best first.

    `account_id` and `file_ids` narrow the search to that account's or those files; an empty query,
    or an empty `file_ids`, finds nothing. InvalidInput for a limit outside 1-50 or a query over
    1,000 characters."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}")
    query = (query or "").strip()
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidInput(f"query must be at most {MAX_QUERY_CHARS} characters")
    if not query or (file_ids is not None and len(file_ids) == 0):
        return []
    scope, params = _scope(account_id, file_ids)
    if mode == "fulltext":
        return _fulltext_chunks(session, tenant_id, query, scope, params, limit)
    depth = max(DEPTH, limit * 3)
    # the vector leg (the query's embedding, then the index) runs while PostgreSQL matches full text
    vectors = _VECTOR_LEGS.submit(_semantic, tenant_id, query, account_id, file_ids, depth)
    fulltext = [] if mode == "semantic" else _fulltext(session, tenant_id, query, scope, params, depth)
    semantic: list[tuple[uuid.UUID, float]] = []
    try:
        semantic = vectors.result()
    except KarizError as exc:  # no collection yet, index or model down: full text answers
        log.info("store retrieval for tenant %s without vectors: %s", tenant_id, exc.message)
    if not semantic:
        ranked = fulltext
    elif mode == "semantic" or not fulltext:
        ranked = semantic
    else:
        ranked = fuse(fulltext, semantic, semantic_weight=DEFAULT_SEMANTIC_WEIGHT)
    # the best `limit` are nearly always all visible; the next ones are read only for those that are not
    found = _hydrate(session, tenant_id, ranked[:limit], scope, params)
    if len(found) < limit:
        found += _hydrate(session, tenant_id, ranked[limit : limit * 3], scope, params)[: limit - len(found)]
    return found


def _hydrate(session: Session, tenant_id: uuid.UUID, ranked: list[tuple[uuid.UUID, float]], scope: str,
             params: dict) -> list[RetrievedChunk]:
    if not ranked:
        return []
    rows = session.execute(
        sa.text(
            "SELECT c.id, c.file_id, f.name, c.account_id, c.page, c.text FROM file_chunks c "
            f"JOIN files f ON f.id = c.file_id WHERE {_VISIBLE}{scope} "
            "AND c.id = ANY(CAST(:ids AS uuid[]))"
        ),
        {**params, "tenant": tenant_id, "ids": [str(i) for i, _ in ranked]},
    ).all()
    by_id = {r.id: r for r in rows}
    # a vector whose chunk is gone, excluded, or out of scope has no row
    return [_chunk(by_id[chunk_id], score) for chunk_id, score in ranked if chunk_id in by_id]


def _chunk(row: sa.Row, score: float) -> RetrievedChunk:
    return RetrievedChunk(
        chunk_id=str(row.id), file_id=str(row.file_id), file_name=row.name,
        account_id=str(row.account_id) if row.account_id else None, page=row.page, text=row.text,
        score=round(min(float(score), 1.0), 6),
    )
