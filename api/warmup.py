"""What a process's first request would otherwise pay, paid at start-up before the API reports ready.

Measured through HTTP (bench/first_query.py --http): with the query model already loaded, a fresh
API process answered its first hybrid search in ~210-240 ms against ~25-40 ms once warm. The rest
was first uses: the database pool's first connection (connect, SQLAlchemy's dialect set-up,
asyncpg's codecs), the ORM's first compiled statement (the key lookup of authentication), the
vector store's first connection (pgvector's type lookup), and search's first statements. Each is
opened here once; a database or vector store that cannot be reached is logged and left to the
first request (start-up does not fail on it, as before).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

import sqlalchemy as sa

from core.db.models import ApiKey
from core.errors import KarizError
from core.search import hybrid, reads, sql
from core.search.classify import classify_query

log = logging.getLogger(__name__)


async def warm_request_path(state: Any) -> None:
    """Open the read pool, the ORM session path and the vector store (state: the app's state)."""
    try:
        async with state.read_engine.connect() as connection:  # search's reader: the bare driver path
            nobody = uuid.UUID(int=0)
            await reads.fetch(connection, sql.COLLECTION, {"tenant": nobody, "name": ""})
            # a keyword search's statements, prepared on this connection (no collection has id 0):
            # the page with its hits (full text) and without them (hybrid's full-text leg)
            page = sql.page(classify_query("warm up"), [], None, sql.base_params(nobody, nobody, 0), limit=20, offset=0)
            for statement in (sql.with_hits(page, None, relevance=True), page):
                await reads.fetch(connection, statement.sql, statement.params)
        async with state.session_factory() as session:  # authentication's key lookup
            await session.execute(sa.select(ApiKey).where(ApiKey.key_hash == ""))
    except (OSError, sa.exc.SQLAlchemyError) as exc:
        log.warning("start-up warm-up: database not reachable (%s); the first request opens it", exc)
        return
    try:
        await asyncio.to_thread(lambda: hybrid.vector_index().warm())
    except (KarizError, OSError) as exc:
        log.warning("start-up warm-up: vector store not reachable (%s); the first search opens it", exc)
