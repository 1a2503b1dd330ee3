"""What a process's first request would otherwise pay, paid at start-up before the API reports ready.

Measured through HTTP (bench/first_query.py --http): with the query model already loaded, a fresh
API process answered its first hybrid search in ~210-240 ms against ~25-40 ms once warm; with the
connections opened here it was still 70-110 ms, and each statement the first request executed for
the first time was a SQLAlchemy compile plus an asyncpg prepare (a round trip) on the pooled
connection: authentication's `last_used_at` update and commit, the usage counter's plan lookup,
load and flush, the hybrid legs' statements and the vector store's collection lookup.

So start-up runs the request path itself:
- search's statements on the read pool's connection (the driver-level reads of `core/search/reads.py`,
  the hybrid legs through SQLAlchemy, the vector store's lookup of a collection), for a tenant and a
  collection nobody has;
- one internal request through the ASGI app, `POST /search/{WARM_UP_COLLECTION}` with a key of a
  throwaway tenant that exists only in a database transaction rolled back afterwards: the app's
  sessions, the usage counter and the search reads are bound to that transaction for the request, so
  authentication (key lookup, account, `last_used_at`, commit), usage counting (limits, counts, the
  flush), routing, the guard, the body's decoding, search's collection lookup and the error mapping
  run as for a client, and nothing of it is kept. The answer is 404 (no such collection); the
  Prometheus middleware skips that path (`api/app.py`), and no search metric or statistic is recorded
  (the request fails before). The caches it filled (the key, the plan limits) are emptied.

A database or vector store that cannot be reached is logged and left to the first request (start-up
does not fail on it, as before).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from typing import Any

import numpy as np
import sqlalchemy as sa
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker
from sqlalchemy.orm import Session

from api.auth.middleware import forget_key
from api.usage.hooks import forget_limits
from core.errors import KarizError, NotFound
from core.search import hybrid, reads, sql
from core.search.classify import classify_query
from core.tenants.service import create_api_key, create_tenant
from core.usage.counters import PostgresUsageCounter
from core.vectors.base import vector_collection_name

log = logging.getLogger(__name__)

#: the collection of the internal warm-up request: not a valid collection name (COLLECTION_NAME
#: starts with a letter or digit), so no tenant's collection is ever answered or counted as it
WARM_UP_COLLECTION = "_warm-up"
WARM_UP_QUERY = "warm up the request path"


async def warm_request_path(app: Litestar) -> None:
    """Run what the first search request of this process would run for the first time: search's
    statements, the vector store's, and one internal request through the app (see the module
    docstring); nothing is written. Unreachable stores are logged and skipped."""
    started = time.perf_counter()
    try:
        async with app.state.read_engine.connect() as connection:  # search's reader: the bare driver path
            await _warm_search_statements(connection)
        await _warm_request(app)
    except (OSError, sa.exc.SQLAlchemyError, KarizError) as exc:  # KarizError: the throwaway tenant refused
        log.warning("start-up warm-up: database path not warmed (%s); the first request opens it", exc)
        return
    try:
        await asyncio.to_thread(_warm_vector_store)
    except (KarizError, OSError, sa.exc.SQLAlchemyError) as exc:  # e.g. a store not migrated yet
        log.warning("start-up warm-up: vector store not reachable (%s); the first search opens it", exc)
        return
    log.info("start-up warm-up: request path warmed in %.0f ms", (time.perf_counter() - started) * 1000)


async def _warm_search_statements(connection: AsyncConnection) -> None:
    """Search's statements prepared on the pooled read connection, for ids nobody has (no
    collection has id 0): the collection lookup, a keyword page with its hits (full text) and
    without them, and the hybrid legs (full-text ranking, vector hits in the generation, hydration)."""
    nobody = uuid.UUID(int=0)
    await reads.fetch(connection, sql.COLLECTION, {"tenant": nobody, "name": ""})
    plan = classify_query(WARM_UP_QUERY)
    page = sql.page(plan, [], None, sql.base_params(nobody, nobody, 0), limit=20, offset=0)
    for statement in (sql.with_hits(page, None, relevance=True), page):
        await reads.fetch(connection, statement.sql, statement.params)
    await hybrid.warm_legs(connection, plan)


def _warm_vector_store() -> None:
    """The vector store's connection, and a search's lookup of its collection (of one that does
    not exist)."""
    index = hybrid.vector_index()
    index.warm()
    nobody = uuid.UUID(int=0)
    name = vector_collection_name(nobody, nobody, 0)
    index.collection_exists(name)  # what a hybrid search asks first
    # NotFound once the lookup ran (what is warmed), before the vector is read: its size does not matter
    with contextlib.suppress(NotFound):
        index.search(name, np.zeros(1, dtype=np.float32), limit=hybrid.MIN_DEPTH)


def _throwaway_key(connection: sa.Connection) -> tuple[uuid.UUID, uuid.UUID, str]:
    """A tenant and a read key on `connection`'s transaction (never committed): (tenant, key id, raw key)."""
    with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
        tenant = create_tenant(session, f"kariz-warm-up-{uuid.uuid4().hex}")
        issued = create_api_key(session, tenant.id, "warm-up", ["tenant:read"])
        session.commit()  # releases the session's savepoint: the rows stay in the outer transaction
        return tenant.id, issued.key.id, issued.raw


async def _warm_request(app: Litestar) -> None:
    state = app.state
    saved = {name: state.get(name) for name in ("session_factory", "read_engine", "usage")}
    async with state.engine.connect() as connection:
        transaction = await connection.begin()
        tenant_id, key_id, raw = await connection.run_sync(_throwaway_key)
        factory = async_sessionmaker(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        usage = PostgresUsageCounter(factory)
        try:
            # the request's sessions, reads (read_engine None: through the session) and counts, in the transaction
            state.session_factory, state.read_engine, state.usage = factory, None, usage
            body = json.dumps({"query": WARM_UP_QUERY, "search_mode": "hybrid"}).encode()
            status = await asgi_request(
                app,
                "POST",
                f"/api/v1/search/{WARM_UP_COLLECTION}",
                body,
                headers={"authorization": f"Bearer {raw}", "content-type": "application/json"},
            )
            await usage.flush()  # the counts' write, as the counter does once a second
            if status != 404:
                log.warning("start-up warm-up: the internal search request answered %s, not 404", status)
        finally:
            for name, value in saved.items():
                setattr(state, name, value)
            await transaction.rollback()
            forget_key(key_id)
            forget_limits(tenant_id)


async def asgi_request(
    app: Any, method: str, path: str, body: bytes = b"", *, headers: dict[str, str] | None = None
) -> int:
    """Call `app` in process with one HTTP request, as a server would; the response's status."""
    raw_headers = [(b"host", b"localhost"), (b"content-length", str(len(body)).encode())]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": raw_headers,
        "client": ("127.0.0.1", 0),
        "server": ("127.0.0.1", 0),
        "state": {},
    }
    incoming = [{"type": "http.request", "body": body, "more_body": False}]
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app(scope, receive, send)
    return statuses[0] if statuses else 500
