"""Semantic and hybrid search on real PostgreSQL, the real model and both vector backends: meaning
beats words, identifiers stay exact, filters hold inside the vector search, one generation per
answer, tenants isolated, and full text answers whenever vectors cannot."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session

from core import generations
from core.embeddings.local_minilm import LocalMiniLMProvider
from core.errors import InvalidInput
from core.search import MemorySearchCache, SearchRequest, search
from core.settings import override_settings
from tests.integration.embeddings.harness import Backend, Seeded, embed, seed

CATALOG = [
    {"name": "Cordless hammer drill 18 V", "part_number": "HD-18-LI", "category": "tools", "price": 149},
    {
        "name": "Stainless Steel Hex Head Bolt M8x40",
        "part_number": "SS-M8-40-A2",
        "category": "fasteners",
        "price": 0.12,
    },
    {"name": "Zinc Hex Head Bolt M8x40", "part_number": "ZN-M8-40", "category": "fasteners", "price": 0.05},
    {
        "name": "Espresso machine with milk frother",
        "part_number": "EM-200",
        "category": "kitchen",
        "price": 240,
    },
    {"name": "Electric kettle 1.7 l", "part_number": "EK-17", "category": "kitchen", "price": 30},
    {"name": "Down sleeping bag, comfort -10 C", "part_number": "SB-10", "category": "outdoor", "price": 150},
    {"name": "Two person dome tent", "part_number": "TT-2", "category": "outdoor", "price": 120},
    {"name": "LED desk lamp, dimmable", "part_number": "DL-5", "category": "lighting", "price": 45},
    {
        "name": "Smoke detector with 10 year battery",
        "part_number": "SD-10",
        "category": "safety",
        "price": 25,
    },
    {"name": "Fire extinguisher 2 kg powder", "part_number": "FE-2", "category": "safety", "price": 35},
    {"name": "Garden hose 25 m", "part_number": "GH-25", "category": "garden", "price": 22},
    {"name": "Lawn mower, petrol, 46 cm", "part_number": "LM-46", "category": "garden", "price": 310},
]


@pytest_asyncio.fixture
async def db(async_engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with AsyncSession(async_engine, expire_on_commit=False) as s:
        yield s


async def ask(
    db: AsyncSession, seeded: Seeded, query: str | None, cache: MemorySearchCache | None = None, **kw
):
    request = SearchRequest(query=query, **kw)
    return await search(db, seeded.tenant_id, seeded.name, request, cache=cache or MemorySearchCache())


def names(response) -> list[str]:
    return [h.name for h in response.results]


@pytest.fixture
def indexed(backend: Backend, session: Session, sync_engine: sa.Engine, model: LocalMiniLMProvider) -> Seeded:
    seeded = seed(session, CATALOG)
    assert embed(sync_engine, seeded, model, backend.index).indexed == len(CATALOG)
    return seeded


async def test_hybrid_finds_by_meaning_what_full_text_misses(db: AsyncSession, indexed: Seeded) -> None:
    query = "appliance to make coffee"
    fulltext = await ask(db, indexed, query, search_mode="fulltext")
    hybrid = await ask(db, indexed, query)  # auto: the collection is indexed, so hybrid

    assert "Espresso machine with milk frother" not in names(fulltext)[:3]
    assert hybrid.search_mode == "hybrid" and hybrid.to_dict()["metadata"]["vector_fallback_used"] is False
    assert names(hybrid)[0] == "Espresso machine with milk frother"
    assert all(0 <= h.score <= 1 for h in hybrid.results)
    assert [h.score for h in hybrid.results] == sorted((h.score for h in hybrid.results), reverse=True)

    semantic = await ask(db, indexed, "keep warm when camping in winter", search_mode="semantic")
    assert semantic.search_mode == "semantic"
    assert names(semantic)[0] == "Down sleeping bag, comfort -10 C"
    assert all(0 <= h.score < 1 for h in semantic.results)


async def test_weights_move_hybrid_between_full_text_and_vectors(db: AsyncSession, indexed: Seeded) -> None:
    query = "kettle for the kitchen"
    words_only = await ask(db, indexed, query, search_mode="hybrid", semantic_weight=0.0)
    vectors_only = await ask(db, indexed, query, search_mode="hybrid", semantic_weight=1.0)
    semantic = await ask(db, indexed, query, search_mode="semantic")
    fulltext = await ask(db, indexed, query, search_mode="fulltext")
    assert names(words_only) == names(fulltext)
    assert names(vectors_only)[:5] == names(semantic)[:5]
    with pytest.raises(InvalidInput, match="semantic_weight"):
        await ask(db, indexed, query, semantic_weight=1.5)
    with pytest.raises(InvalidInput, match="search_mode"):
        await ask(db, indexed, query, search_mode="magic")


@pytest.mark.parametrize("mode", [None, "hybrid", "semantic"])
async def test_identifier_queries_stay_exact(db: AsyncSession, indexed: Seeded, mode: str | None) -> None:
    response = await ask(db, indexed, "SS-M8-40-A2", search_mode=mode)
    first = response.results[0]
    assert (first.collection_data["part_number"], first.score) == ("SS-M8-40-A2", 1.0)
    assert all(h.score < 1.0 for h in response.results[1:])


async def test_filters_hold_inside_the_vector_search(db: AsyncSession, indexed: Seeded) -> None:
    response = await ask(
        db,
        indexed,
        "something for the house",
        search_mode="semantic",
        filters={"category": "safety"},
        limit=10,
    )
    assert sorted(names(response)) == ["Fire extinguisher 2 kg powder", "Smoke detector with 10 year battery"]
    cheap = await ask(
        db,
        indexed,
        "equipment",
        search_mode="hybrid",
        filters={"price_max": 30, "category_in": "kitchen,garden"},
    )
    assert sorted(names(cheap)) == ["Electric kettle 1.7 l", "Garden hose 25 m"]


async def test_not_yet_indexed_answers_with_full_text_and_says_so(
    db: AsyncSession, backend: Backend, session: Session
) -> None:
    seeded = seed(session, CATALOG)
    auto = await ask(db, seeded, "Espresso machine")
    explicit = await ask(db, seeded, "Espresso machine", search_mode="hybrid")
    for response in (auto, explicit):
        metadata = response.to_dict()["metadata"]
        assert metadata["search_mode"] == "fulltext"
        assert (metadata["vector_fallback_used"], metadata["vector_fallback_reason"]) == (True, "not_indexed")
        assert names(response)[0] == "Espresso machine with milk frother"


async def test_vector_index_down_falls_back_and_the_answer_is_not_cached(
    db: AsyncSession, indexed: Seeded, backend: Backend
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cache = MemorySearchCache()
    override_settings(
        backend.settings.model_copy(
            update={"vector_backend": "qdrant", "qdrant_url": f"http://127.0.0.1:{port}"}
        )
    )
    try:
        down = await ask(db, indexed, "appliance to make coffee", cache=cache)
    finally:
        override_settings(backend.settings)
    assert down.search_mode == "fulltext"
    assert down.vector_fallback_reason == "vector_index_unavailable"
    back = await ask(db, indexed, "appliance to make coffee", cache=cache)
    assert (back.search_mode, back.cache_hit) == ("hybrid", False)
    assert names(back)[0] == "Espresso machine with milk frother"


async def test_sort_and_filter_only_requests_use_full_text(db: AsyncSession, indexed: Seeded) -> None:
    assert (await ask(db, indexed, "bolt", sort="-price")).search_mode == "fulltext"
    assert (await ask(db, indexed, None, filters={"category": "garden"})).search_mode == "fulltext"
    with pytest.raises(InvalidInput, match="sort"):
        await ask(db, indexed, "bolt", sort="price", search_mode="semantic")


async def test_a_tenant_never_sees_another_tenants_vectors(
    db: AsyncSession, backend: Backend, session: Session, sync_engine: sa.Engine, model: LocalMiniLMProvider
) -> None:
    name = f"shared{uuid.uuid4().hex[:6]}"
    mine = seed(session, CATALOG[:4], name=name)
    theirs = seed(session, [{"name": "Espresso grinder for coffee beans", "category": "kitchen"}], name=name)
    for seeded in (mine, theirs):
        embed(sync_engine, seeded, model, backend.index)
    my_ids = {
        str(i)
        for i in session.execute(
            sa.text("SELECT id FROM records WHERE collection_id = :c"), {"c": mine.collection_id}
        ).scalars()
    }
    session.commit()
    for mode in ("semantic", "hybrid"):
        response = await ask(db, mine, "coffee grinder", search_mode=mode, limit=50)
        assert {h.record_id for h in response.results} <= my_ids
        assert "Espresso grinder for coffee beans" not in names(response)


async def test_one_generation_per_answer_while_a_staged_generation_is_indexed(
    db: AsyncSession,
    indexed: Seeded,
    backend: Backend,
    session: Session,
    sync_engine: sa.Engine,
    model: LocalMiniLMProvider,
) -> None:
    generations.start_replace(
        session,
        tenant_id=indexed.tenant_id,
        collection_name=indexed.name,
        data=b"name,category\nFrench press coffee maker,kitchen\n",
        filename="new.csv",
        entity_type="product",
        index=backend.index,
        dimension=model.dimension,
    )
    embed(sync_engine, indexed, model, backend.index)  # the staging generation's vectors now exist

    live = await ask(db, indexed, "coffee maker", search_mode="semantic", limit=50)
    assert "French press coffee maker" not in names(live)
    assert "Espresso machine with milk frother" in names(live)

    generations.swap(session, indexed.tenant_id, indexed.name, backend.index)
    swapped = await ask(db, indexed, "coffee maker", search_mode="semantic", limit=50)
    assert names(swapped) == ["French press coffee maker"]
