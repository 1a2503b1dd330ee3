"""Searches running in a loop while a replace is uploaded, indexed and swapped never fail and never
mix generations: every response comes wholly from the old (blue) or the new (green) data.

Searches call `core.search.service.search` (the API's search function) in full-text, hybrid and
semantic modes on their own sessions; raw vector searches read the active generation from
PostgreSQL and search that generation's vector collection, and also search through the alias,
hydrating hits from PostgreSQL by id. Indexing runs the real embedding pipeline."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections import Counter

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session

from core import generations
from core.embeddings.factory import get_embedding_provider
from core.search.request import SearchRequest
from core.search.service import search
from core.tenants.service import create_tenant
from core.vectors.base import vector_alias_name, vector_collection_name
from tests.integration.generations.conftest import Backend, vertical_name
from tests.integration.generations.seeding import csv_for, index_generation, rows_for, seed_live_vertical

MODES = ("fulltext", "hybrid", "semantic")


async def test_concurrent_searches_see_one_generation_at_a_time(
    session: Session, sync_engine: sa.Engine, async_engine: AsyncEngine, backend: Backend
) -> None:
    index = backend.index
    tenant = create_tenant(session, f"swapload-{uuid.uuid4().hex[:8]}")
    session.commit()
    name = vertical_name()
    collection_id = seed_live_vertical(session, index, tenant.id, name, rows_for("blue", 60))
    alias = vector_alias_name(tenant.id, collection_id)
    query_vector = get_embedding_provider().embed_one("widget")

    done = asyncio.Event()
    answers: dict[str, Counter[frozenset[str]]] = {mode: Counter() for mode in MODES}
    vectors: Counter[frozenset[str]] = Counter()
    failures: list[BaseException] = []

    async def search_loop(mode: str) -> None:
        while not done.is_set():
            try:
                async with AsyncSession(async_engine) as s:
                    response = await search(
                        s, tenant.id, name, SearchRequest(query="widget", limit=50, search_mode=mode)
                    )
                if response.vector_fallback_reason is not None:
                    raise AssertionError(f"{mode} fell back to full text: {response.vector_fallback_reason}")
                answers[mode][frozenset(hit.collection_data["batch"] for hit in response.results)] += 1
            except Exception as exc:  # a failed search is the finding
                failures.append(exc)
            await asyncio.sleep(0)

    def vector_search_once() -> list[frozenset[str]]:
        # as hybrid search does: one vector query, then the hits hydrated from PostgreSQL by id
        seen = []
        with sync_engine.connect() as conn:
            generation = conn.execute(
                sa.text("SELECT active_generation FROM collections WHERE id = :c"), {"c": collection_id}
            ).scalar_one()
            for target in (vector_collection_name(tenant.id, collection_id, generation), alias):
                ids = [h.id for h in index.search(target, query_vector, limit=50)]
                batches = conn.execute(
                    sa.text(
                        "SELECT collection_data->>'batch' FROM records WHERE id = ANY(CAST(:ids AS uuid[]))"
                    ),
                    {"ids": ids},
                ).scalars()
                seen.append(frozenset(batches))
        return seen

    async def vector_loop() -> None:
        while not done.is_set():
            try:
                for batches in await asyncio.to_thread(vector_search_once):
                    vectors[batches] += 1
            except Exception as exc:
                failures.append(exc)

    replace_log: list[str] = []

    def replace_index_swap_archive() -> None:
        with Session(sync_engine, expire_on_commit=False) as s:
            started = generations.start_replace(
                s,
                tenant_id=tenant.id,
                collection_name=name,
                data=csv_for("green", 80),
                filename="green.csv",
                entity_type="product",
                index=index,
            )
            replace_log.append(f"staged {started.staging_generation}")
            index_generation(s, index, tenant.id, name, 2)
            replace_log.append("indexed")
            generations.swap(s, tenant.id, name, index)
            replace_log.append("swapped")
        threading.Event().wait(0.5)  # searches keep running on the new generation
        with Session(sync_engine, expire_on_commit=False) as s:
            generations.archive_generation_records(s, collection_id, 1, batch_size=10)
            replace_log.append("archived")

    workers = [asyncio.create_task(search_loop(mode)) for mode in MODES]
    workers.append(asyncio.create_task(vector_loop()))
    await asyncio.sleep(0.3)
    try:
        await asyncio.to_thread(replace_index_swap_archive)
        await asyncio.sleep(0.5)
    finally:
        done.set()
        await asyncio.gather(*workers)

    assert replace_log == ["staged 2", "indexed", "swapped", "archived"]
    assert failures == []
    blue, green = frozenset({"blue"}), frozenset({"green"})
    # every response wholly from one generation, and both generations were seen
    for mode, seen in answers.items():
        assert set(seen) == {blue, green}, (mode, seen)
    assert set(vectors) == {blue, green}, vectors
