"""Field indexes on the real PostgreSQL, built by the real Dagster job: a large collection's typed
fields get indexes, filter-only and sorted searches read them (EXPLAIN says so), the answers are the
same as without them, another tenant's small collection gets none, and a generation that stops being
active loses them."""

from __future__ import annotations

import random
import uuid

import dagster as dg
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session

from core.ingestion import ingest_records
from core.search import MemorySearchCache, SearchRequest, search, sql
from core.search.field_indexes import INDEX_PREFIX, index_name, maintain_field_indexes, pending_work
from core.search.filters import default_filter_sort, parse_filters, parse_sort
from core.search.service import search_fields
from core.settings import get_settings, override_settings
from core.tenants.service import create_tenant
from orchestration.definitions import defs
from orchestration.resources import DatabaseResource, SettingsResource

ROWS = 2400
MIN_RECORDS = 2000  # above every other collection of the test database, below this one
COUNTRIES = ["DE", "FR", "IT", "JP", "US"]


def products(n: int, seed: int) -> list[dict]:
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        row = {
            "name": f"Bolt {rnd.choice(['hex', 'socket', 'flange'])} {i}",
            "part_number": f"FI-{i:05d}",
            "in_stock": rnd.random() < 0.5,
            "country": rnd.choice(COUNTRIES),
            "released": f"202{rnd.randint(0, 6)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
        }
        if i % 10:  # every tenth record has no price: sorts must still put them last
            row["price_eur"] = rnd.randint(1, 2000) / 100
        rows.append(row)
    return rows


class Large:
    def __init__(self, tenant_id: uuid.UUID, collection_id: uuid.UUID, other_tenant_id: uuid.UUID) -> None:
        self.tenant_id, self.collection_id, self.other_tenant_id = tenant_id, collection_id, other_tenant_id


@pytest.fixture(scope="module")
def large(sync_engine: sa.Engine) -> Large:
    with Session(sync_engine) as s:
        tenant = create_tenant(s, f"fi-{uuid.uuid4().hex[:8]}").id
        other = create_tenant(s, f"fi-other-{uuid.uuid4().hex[:8]}").id
        result = ingest_records(
            s, tenant_id=tenant, collection_name="parts", records=products(ROWS, 1), entity_type="part"
        )
        # the same field names in another tenant's small collection: no index, never in our answers
        ingest_records(
            s, tenant_id=other, collection_name="parts", records=products(50, 2), entity_type="part"
        )
        s.commit()
    return Large(tenant, result.collection_id, other)


SEARCHES = [
    {"filters": {"country": "JP"}},
    {"filters": {"country": "DE,FR", "in_stock": True}},
    {"filters": {"price_eur_max": 0.5}},
    {"filters": {"price_eur_min": 19.5}, "sort": "-price_eur"},
    {"filters": {"released_min": "2026-06-01", "country": "IT"}},
    {"filters": {"in_stock": False}, "sort": "-price_eur", "limit": 50},
    {"filters": {"country": "US"}, "sort": "-released", "offset": 40},
    {"filters": {"part_number": "FI-00042"}},
    {"query": "socket", "filters": {"price_eur_max": 2}},
]


async def answers(engine: AsyncEngine, tenant_id: uuid.UUID) -> list[tuple]:
    out = []
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        for body in SEARCHES:
            r = await search(conn, tenant_id, "parts", SearchRequest(**body), cache=MemorySearchCache())
            # totals are exact up to COUNT_CAP, estimates past it (better ones with the field statistics)
            out.append(
                ([h.record_id for h in r.results], min(r.total_estimate, sql.COUNT_CAP + 1), r.has_more)
            )
        for sort in ("price_eur", "-price_eur"):  # every page, down to the records without a price
            out.append(await every_page(conn, tenant_id, {"filters": {"country": "JP"}, "sort": sort}))
    return out


async def every_page(conn, tenant_id: uuid.UUID, body: dict) -> list[tuple[str, float | None]]:
    seen: list[tuple[str, float | None]] = []
    while True:
        request = SearchRequest(**body, limit=100, offset=len(seen))
        r = await search(conn, tenant_id, "parts", request, cache=MemorySearchCache())
        seen += [(h.record_id, h.collection_data.get("price_eur")) for h in r.results]
        if not r.has_more:
            return seen


def evaluate_sensor(instance: dg.DagsterInstance, database: DatabaseResource) -> list[dg.RunRequest]:
    sensor = defs.get_repository_def().get_sensor_def("field_index_sensor")
    context = dg.build_sensor_context(
        instance=instance, resources={"database": database, "settings": SettingsResource()}
    )
    return list(sensor(context).run_requests or [])


def index_names(engine: sa.Engine) -> set[str]:
    with engine.connect() as conn:
        return set(
            conn.execute(
                sa.text("SELECT indexname FROM pg_indexes WHERE indexname LIKE 'kariz\\_rf\\_%'")
            ).scalars()
        )


async def page_plan(engine: AsyncEngine, large: Large, body: dict) -> str:
    async with AsyncSession(engine) as session:
        fields = await search_fields(session, large.collection_id, 1, 10**9)  # a version no search used
        conditions = parse_filters(body["filters"], fields.catalog, fields.indexed)
        sort = parse_sort(body.get("sort"), fields.catalog, fields.indexed) or default_filter_sort(conditions)
        params = sql.base_params(large.tenant_id, large.collection_id, 1)
        page = sql.with_hits(
            sql.page(None, conditions, sort, params, limit=20, offset=0), sort, relevance=False
        )
        rows = await session.execute(sa.text(f"EXPLAIN (FORMAT TEXT) {page.sql}"), page.params)
        return "\n".join(r[0] for r in rows)


async def test_large_collections_get_field_indexes_that_searches_use_and_that_change_no_answer(
    sync_engine: sa.Engine, async_engine: AsyncEngine, database_url: str, large: Large
) -> None:
    before = await answers(async_engine, large.tenant_id)
    others_before = await answers(async_engine, large.other_tenant_id)
    assert before[0][0] and before[6][0], "the searches find something"
    plan = await page_plan(async_engine, large, {"filters": {"price_eur_max": 0.5}, "sort": "price_eur"})
    assert INDEX_PREFIX not in plan
    database = DatabaseResource(url=database_url)
    wanted = {index_name(large.collection_id, 1, f) for f in ("price_eur", "released", "in_stock", "country")}
    override_settings(get_settings().model_copy(update={"search_field_index_min_records": MIN_RECORDS}))
    with dg.instance_for_test() as instance:
        [request] = evaluate_sensor(instance, database)
        job = defs.get_repository_def().get_job("field_index_job")
        result = job.execute_in_process(
            instance=instance,
            tags=request.tags,
            resources={"database": database, "settings": SettingsResource()},
        )
        assert result.success
        assert wanted <= index_names(sync_engine)
        # the other tenant's 50 records are below the threshold: nothing built for their collection
        with sync_engine.connect() as conn:
            predicates = conn.execute(
                sa.text("SELECT indexdef FROM pg_indexes WHERE indexname LIKE :p"), {"p": f"{INDEX_PREFIX}%"}
            ).scalars()
            others = conn.execute(
                sa.text("SELECT id FROM collections WHERE tenant_id = :t"), {"t": large.other_tenant_id}
            ).scalar_one()
            assert not any(str(others) in p for p in predicates)
        assert not evaluate_sensor(instance, database), "nothing left to do"

    for body, index_of in [
        ({"filters": {"price_eur_max": 0.5}, "sort": "price_eur"}, "price_eur"),
        ({"filters": {"price_eur_min": 19.5}, "sort": "-price_eur"}, "price_eur"),
        ({"filters": {"country": "JP", "released_min": "2026-10-01"}}, "released"),
    ]:
        plan = await page_plan(async_engine, large, body)
        assert index_name(large.collection_id, 1, index_of) in plan, plan

    assert await answers(async_engine, large.tenant_id) == before
    assert await answers(async_engine, large.other_tenant_id) == others_before
    # sorted both ways, every JP record once, the ones without a price last (the sort's second leg)
    ascending, descending = before[-2], before[-1]
    priced = [p for _, p in ascending if p is not None]
    assert priced == sorted(priced) and ascending[-1][1] is None
    assert [p for _, p in descending if p is not None] == sorted(priced, reverse=True)
    assert descending[-1][1] is None and len({i for i, _ in descending}) == len(descending)


async def test_a_generation_that_stops_being_active_loses_its_field_indexes(
    sync_engine: sa.Engine, async_engine: AsyncEngine, large: Large
) -> None:
    maintain_field_indexes(sync_engine, min_records=MIN_RECORDS, max_fields=8)
    ours = {index_name(large.collection_id, 1, f) for f in ("price_eur", "country")}
    assert ours <= index_names(sync_engine)
    with Session(sync_engine) as s:  # generation 2 goes live (empty), as a swap leaves it
        s.execute(
            sa.text("UPDATE generations SET status = 'archived' WHERE collection_id = :c AND number = 1"),
            {"c": large.collection_id},
        )
        s.execute(
            sa.text(
                "INSERT INTO generations (id, tenant_id, collection_id, number, status) "
                "VALUES (:id, :t, :c, 2, 'active')"
            ),
            {"id": uuid.uuid4(), "t": large.tenant_id, "c": large.collection_id},
        )
        s.execute(
            sa.text("UPDATE collections SET active_generation = 2 WHERE id = :c"), {"c": large.collection_id}
        )
        s.commit()
    with sync_engine.connect() as conn:
        assert {f"drop {n}" for n in ours} <= set(pending_work(conn, min_records=MIN_RECORDS, max_fields=8))
    result = maintain_field_indexes(sync_engine, min_records=MIN_RECORDS, max_fields=8)
    assert ours <= set(result.dropped)
    assert not ours & index_names(sync_engine)
