"""A served API opens, while it starts, the connections its first search would otherwise open: a
pooled read connection, and the vector store's connection with the `vector` type registered; and
it runs the request path once, so a process's first hybrid search compiles no SQLAlchemy statement
and prepares no statement on its database connection for the first time."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from litestar.testing import AsyncTestClient
from prometheus_client import REGISTRY, generate_latest
from sqlalchemy.orm import Session

import api.warmup
import core.vectors.factory
from api.app import create_app
from api.auth.middleware import forget_key
from api.usage.hooks import forget_limits
from core.embeddings.local_minilm import LocalMiniLMProvider
from core.errors import Conflict
from core.settings import Settings, override_settings
from core.tenants.service import IssuedKey, create_api_key
from core.vectors.base import vector_collection_name
from core.vectors.factory import get_vector_index
from core.vectors.pgvector import PgVectorIndex, points_table
from tests.integration.conftest import serve_in_loop
from tests.integration.embeddings.conftest import model
from tests.integration.embeddings.harness import Seeded, embed, seed
from tests.integration.hybrid.test_hybrid import CATALOG

__all__ = ["model"]  # the embedding tests' model fixture


async def test_start_up_opens_the_read_pool_and_the_vector_store(
    app_settings: Settings, database_url: str
) -> None:
    settings = app_settings.model_copy(update={"vector_backend": "pgvector"})
    override_settings(settings)
    index = get_vector_index(settings)
    cold = settings.model_copy(update={"warm_models": False})
    index.engine.dispose()
    async with AsyncTestClient(app=create_app(cold, database_url=database_url)) as client:
        assert client.app.state.read_engine.pool.checkedin() == 0
        assert index.engine.pool.checkedin() == 0  # nothing opened: the first request would
    async with AsyncTestClient(app=create_app(settings, database_url=database_url)) as client:
        assert client.app.state.read_engine.pool.checkedin() == 1
        assert index.engine.pool.checkedin() == 1
        with index.engine.connect() as conn:  # the pooled connection, its vector type registered
            assert conn.info.get("kariz_vector_registered") is True
        assert (await client.get("/api/v1/health")).status_code == 200


@pytest.fixture
def warmup_log() -> Iterator[list[logging.LogRecord]]:
    """What api/warmup.py logs (its own handler: the app's start-up reconfigures the root logger's)."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("api.warmup")
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)
    logger.setLevel(level)


@pytest.fixture
def hybrid_tenant(
    app_settings: Settings,
    database_url: str,
    sync_engine: sa.Engine,
    model: LocalMiniLMProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[Settings, Seeded, IssuedKey, str]]:
    """A tenant's collection embedded into pgvector, a read key of it, and a fresh process-wide
    vector index (its statements never compiled, as in a new API process); the collection's points table."""
    settings = app_settings.model_copy(update={"vector_backend": "pgvector", "search_cache_ttl_s": 0})
    override_settings(settings)
    with Session(sync_engine, expire_on_commit=False) as session:
        seeded = seed(session, CATALOG)
        key = create_api_key(session, seeded.tenant_id, "first-request", ["tenant:read"])
        session.commit()
    embedding_index = PgVectorIndex(database_url)
    assert embed(sync_engine, seeded, model, embedding_index).indexed == len(CATALOG)
    embedding_index.close()
    fresh = PgVectorIndex(database_url)
    monkeypatch.setitem(core.vectors.factory._INDEXES, ("pgvector", database_url), fresh)
    with sync_engine.connect() as conn:
        generation = conn.execute(
            sa.text("SELECT active_generation FROM collections WHERE id = :c"), {"c": seeded.collection_id}
        ).scalar_one()
    yield (
        settings,
        seeded,
        key,
        points_table(vector_collection_name(seeded.tenant_id, seeded.collection_id, generation)),
    )
    fresh.close()


@dataclass
class FirstRequest:
    executed: list[tuple[str, str]]  # (CacheStats name, SQL) of every statement SQLAlchemy ran
    newly_prepared: list[str]  # statements the app's database connection prepared during the request
    points: str  # the collection's points table in pgvector

    def compiled_first(self) -> list[str]:
        """Statements the request compiled for the first time, except those reading the collection's
        own points table (one statement per collection, which no start-up can know)."""
        return [sql for outcome, sql in self.executed if outcome == "CACHE_MISS" and self.points not in sql]


async def first_search_statements(
    settings: Settings, database_url: str, seeded: Seeded, key: IssuedKey, points: str
) -> FirstRequest:
    """Start the real app (its start-up hooks), then send one hybrid search and record what it ran:
    each SQLAlchemy statement with its compiled-cache outcome (the app's engine and the vector
    store's), and the statements it prepared on the database connection for the first time."""
    forget_key(key.key.id)  # a new process: the key and its tenant's limits not looked up yet
    forget_limits(seeded.tenant_id)
    app = create_app(settings, database_url=database_url)
    index = get_vector_index(settings)
    executed: list[tuple[str, str]] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        if context is not None:
            executed.append((context.cache_hit.name, statement))

    async with serve_in_loop(app) as client:
        engine = app.state.engine
        async with engine.connect() as conn:  # start-up's internal request kept nothing
            throwaway = "SELECT count(*) FROM tenants WHERE name LIKE 'kariz-warm-up-%'"
            assert (await conn.execute(sa.text(throwaway))).scalar_one() == 0
        assert b"_warm-up" not in generate_latest(REGISTRY)

        async def prepared() -> set[str]:
            async with engine.connect() as conn:
                raw = await conn.get_raw_connection()
                rows = await raw.driver_connection.fetch("SELECT statement FROM pg_prepared_statements")
                return {r["statement"] for r in rows}

        before = await prepared()
        sa.event.listen(engine.sync_engine, "before_cursor_execute", record)
        sa.event.listen(index.engine, "before_cursor_execute", record)
        try:
            response = await client.post(
                f"/api/v1/search/{seeded.name}",
                json={"query": "appliance to make coffee", "search_mode": "hybrid"},
                headers={"Authorization": f"Bearer {key.raw}"},
            )
        finally:
            sa.event.remove(engine.sync_engine, "before_cursor_execute", record)
            sa.event.remove(index.engine, "before_cursor_execute", record)
        after = await prepared()
    assert response.status_code == 200, response.text
    assert response.json()["metadata"]["search_mode"] == "hybrid"
    assert response.json()["results"][0]["name"] == "Espresso machine with milk frother"
    return FirstRequest(executed, sorted(after - before), points)


async def test_the_first_hybrid_search_compiles_and_prepares_nothing_new(
    hybrid_tenant: tuple[Settings, Seeded, IssuedKey, str],
    database_url: str,
    warmup_log: list[logging.LogRecord],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings, seeded, key, points = hybrid_tenant
    first = await first_search_statements(settings, database_url, seeded, key, points)
    assert not [r for r in warmup_log if r.levelno >= logging.WARNING]  # every part of it ran
    assert [r for r in warmup_log if "request path warmed" in r.getMessage()]
    # authentication (key, last use), usage counting, the hybrid legs, the vector store's lookups
    assert len(first.executed) >= 8
    assert first.compiled_first() == []
    assert first.newly_prepared == []

    # the same request in a process without the warm-up compiles and prepares them (what is measured)
    index = PgVectorIndex(database_url)
    monkeypatch.setitem(core.vectors.factory._INDEXES, ("pgvector", database_url), index)
    cold = settings.model_copy(update={"warm_models": False})
    first = await first_search_statements(cold, database_url, seeded, key, points)
    compiled = " ".join(first.compiled_first())
    for statement in (
        "UPDATE api_keys SET last_used_at",
        "FROM tenants",
        "FROM usage_counters",
        "FROM vector_collections",
    ):
        assert statement in compiled
    assert first.newly_prepared
    index.close()


async def test_a_refused_warm_up_request_does_not_stop_the_start_up(
    app_settings: Settings,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    warmup_log: list[logging.LogRecord],
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise Conflict("tenant name taken")

    monkeypatch.setattr(api.warmup, "create_tenant", refuse)
    async with AsyncTestClient(app=create_app(app_settings, database_url=database_url)) as client:
        assert (await client.get("/api/v1/health")).status_code == 200
    assert [r for r in warmup_log if r.levelno == logging.WARNING and "not warmed" in r.getMessage()]
