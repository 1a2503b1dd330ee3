"""Search on the real PostgreSQL through asyncpg: every contract parameter and error, isolation, cache."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest
import sqlalchemy as sa
import yaml
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.orm import Session

from core.errors import InvalidInput, NotFound
from core.ingestion import ingest_records
from core.search import MemorySearchCache, RedisSearchCache, SearchRequest, search, sql
from core.tenants.service import create_tenant

FASTENERS = [
    {
        "name": "Stainless Steel Hex Head Bolt M8x40 ISO 4017",
        "part_number": "SS-M8-40-A2",
        "material": "Stainless Steel A2",
        "standard": "ISO 4017",
        "price_eur": 0.12,
        "in_stock": True,
        "country": "DE",
        "released": "2026-03-05",
    },
    {
        "name": "Stainless Steel Hex Head Bolt M8x50 ISO 4017",
        "part_number": "SS-M8-50-A2",
        "material": "Stainless Steel A2",
        "standard": "ISO 4017",
        "price_eur": 0.15,
        "in_stock": True,
        "country": "DE",
        "released": "2026-01-05",
    },
    {
        "name": "Zinc Hex Head Bolt M8x40 DIN 933",
        "part_number": "ZN-M8-40",
        "material": "Zinc plated steel",
        "standard": "DIN 933",
        "price_eur": 9.5,
        "in_stock": False,
        "country": "FR",
        "released": "2025-11-01",
    },
    {
        "name": "Washer M8 DIN 125",
        "part_number": "W-M8-125",
        "material": "Stainless Steel A2",
        "standard": "DIN 125",
        "price_eur": 10.5,
        "in_stock": True,
        "country": "IT",
        "released": "2024-02-02",
    },
    {
        "name": "Titanium Socket Cap Screw M6x20",
        "part_number": "TI-M6-20",
        "material": "Titanium Grade 5",
        "standard": "ISO 4762",
        "price_eur": 100,
        "in_stock": False,
        "country": "US",
        "released": "2023-06-30",
    },
]


class Catalog:
    def __init__(self, tenant_id: uuid.UUID, other_tenant_id: uuid.UUID, collection: str) -> None:
        self.tenant_id, self.other_tenant_id, self.collection = tenant_id, other_tenant_id, collection


@pytest.fixture(scope="module")
def catalog(sync_engine: sa.Engine) -> Catalog:
    """Committed data (the async search connection must see it), isolated by fresh tenants."""
    with Session(sync_engine) as s:
        tenant = create_tenant(s, f"search-{uuid.uuid4().hex[:8]}").id
        other = create_tenant(s, f"search-other-{uuid.uuid4().hex[:8]}").id
        result = ingest_records(
            s,
            tenant_id=tenant,
            collection_name="manufacturing",
            records=FASTENERS,
            entity_type="fastener",
            source_type="file_upload",
        )
        ingest_records(
            s,
            tenant_id=tenant,
            collection_name="manufacturing",
            entity_type="fastener",
            records=[{"name": "Archived Bolt M8 SS-M8-99", "part_number": "SS-M8-99", "price_eur": 1}],
        )
        s.execute(sa.text("UPDATE records SET status = 'archived' WHERE name LIKE 'Archived%'"))
        s.execute(
            sa.text(
                "INSERT INTO generations (id, tenant_id, collection_id, number, status) "
                "VALUES (:id, :t, :c, 2, 'staging')"
            ),
            {"id": uuid.uuid4(), "t": tenant, "c": result.collection_id},
        )
        ingest_records(
            s,
            tenant_id=tenant,
            collection_name="manufacturing",
            entity_type="fastener",
            generation=2,
            records=[{"name": "Staged Bolt M8 SS-M8-77", "part_number": "SS-M8-77", "price_eur": 1}],
        )
        ingest_records(
            s,
            tenant_id=other,
            collection_name="secret",
            entity_type="fastener",
            records=[{"name": "Secret Bolt SS-M8-40-A2", "part_number": "SS-M8-40-A2"}],
        )
        s.commit()
    return Catalog(tenant, other, "manufacturing")


# every test here runs on both readers search is given: an ORM session (tests bound to their
# transaction, Dagster) and the API's bare autocommit connection, whose statements go straight to
# the asyncpg driver (core/search/reads.py); the answers must be the same
_READER = {"kind": "session"}


@pytest.fixture(autouse=True, params=["session", "api_connection"])
def reader_kind(request: pytest.FixtureRequest) -> Iterator[str]:
    _READER["kind"] = request.param
    yield request.param
    _READER["kind"] = "session"


@asynccontextmanager
async def _reader(engine: AsyncEngine) -> AsyncIterator[AsyncSession | AsyncConnection]:
    if _READER["kind"] == "session":
        async with AsyncSession(engine) as session:
            yield session
    else:
        async with engine.execution_options(isolation_level="AUTOCOMMIT").connect() as connection:
            yield connection


async def _search(
    engine: AsyncEngine, catalog: Catalog, collection: str | None = None, tenant=None, cache=None, **kw
):
    async with _reader(engine) as reader:
        return await search(
            reader,
            tenant or catalog.tenant_id,
            collection or catalog.collection,
            SearchRequest(**kw),
            cache=cache or MemorySearchCache(),
        )


def _names(response) -> list[str]:
    return [h.name for h in response.results]


@pytest.mark.parametrize("query", ["SS-M8-40-A2", "ss m8 40 a2", "SSM840A2"])
async def test_an_exact_identifier_scores_one_and_comes_first(async_engine, catalog, query) -> None:
    response = await _search(async_engine, catalog, query=query)
    assert response.results[0].name == "Stainless Steel Hex Head Bolt M8x40 ISO 4017"
    assert response.results[0].score == 1.0
    assert all(h.score < 1.0 for h in response.results[1:])
    assert (response.search_mode, response.query_type) == ("identifier", "identifier")


async def test_a_partial_part_number_finds_its_family_below_one(async_engine, catalog) -> None:
    response = await _search(async_engine, catalog, query="SS-M8")
    assert set(_names(response)) == {
        "Stainless Steel Hex Head Bolt M8x40 ISO 4017",
        "Stainless Steel Hex Head Bolt M8x50 ISO 4017",
    }
    assert all(0 < h.score < 1 for h in response.results)
    assert response.search_mode == "fulltext"


async def test_a_standard_is_an_identifier(async_engine, catalog) -> None:
    response = await _search(async_engine, catalog, query="DIN 933")
    assert response.results[0].name == "Zinc Hex Head Bolt M8x40 DIN 933" and response.results[0].score == 1.0


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("SS-M8-40-A3", "Stainless Steel Hex Head Bolt M8x40 ISO 4017"),  # a character replaced
        ("TI-M6-02", "Titanium Socket Cap Screw M6x20"),  # two neighbours swapped
        ("ZN-M-40", "Zinc Hex Head Bolt M8x40 DIN 933"),  # a character dropped (ZN-M8-40)
        ("W-M8-1255", "Washer M8 DIN 125"),  # a character added
        ("M8-50-A2", "Stainless Steel Hex Head Bolt M8x50 ISO 4017"),  # the end of SS-M8-50-A2
    ],
)
async def test_a_misspelt_or_partial_part_number_finds_its_record_flagged_fuzzy(
    async_engine, catalog, query, expected
) -> None:
    response = await _search(async_engine, catalog, query=query)
    assert _names(response)[0] == expected
    assert response.results[0].match == "fuzzy" and response.results[0].score < 1.0
    assert response.to_dict()["metadata"]["fuzzy_match_used"] is True


async def test_a_typo_finds_only_what_is_one_typo_away(async_engine, catalog) -> None:
    # SS-M8-40-A3 is one typo from SS-M8-40-A2, two from SS-M8-50-A2
    response = await _search(async_engine, catalog, query="SS-M8-40-A3")
    assert _names(response) == ["Stainless Steel Hex Head Bolt M8x40 ISO 4017"]
    # two typos are not one
    assert (await _search(async_engine, catalog, query="SS-M9-41-A2")).results == []


async def test_the_exact_part_number_is_never_a_fuzzy_match(async_engine, catalog) -> None:
    # SS-M8-50-A2 is one typo from SS-M8-40-A2, yet the exact record alone answers, at 1.0
    response = await _search(async_engine, catalog, query="SS-M8-50-A2")
    first = response.results[0]
    assert (first.name, first.score, first.match) == ("Stainless Steel Hex Head Bolt M8x50 ISO 4017", 1.0, "identifier")
    assert "fuzzy" not in {h.match for h in response.results}
    assert "fuzzy_match_used" not in response.to_dict()["metadata"]


async def test_fuzzy_part_numbers_stay_inside_the_tenant_and_its_active_records(async_engine, catalog) -> None:
    # the other tenant's SS-M8-40-A2 is one typo away too, and never shown
    mine = await _search(async_engine, catalog, query="SS-M8-40-A3")
    assert "Secret Bolt SS-M8-40-A2" not in _names(mine)
    theirs = await _search(async_engine, catalog, collection="secret", tenant=catalog.other_tenant_id, query="ZN-M8-41")
    assert theirs.results == []
    # one typo from the archived SS-M8-99 and from the staged SS-M8-77
    assert (await _search(async_engine, catalog, query="SS-M8-98")).results == []
    assert (await _search(async_engine, catalog, query="SS-M8-78")).results == []
    # a filter still narrows a fuzzy answer
    narrowed = await _search(async_engine, catalog, query="SS-M8-40-A3", filters={"country": "FR"})
    assert "fuzzy" not in {h.match for h in narrowed.results}


async def test_keywords_rank_full_text_matches_with_scores_between_zero_and_one(
    async_engine, catalog
) -> None:
    response = await _search(async_engine, catalog, query="stainless M8 bolt ISO 4017")
    assert set(_names(response)) == {
        "Stainless Steel Hex Head Bolt M8x40 ISO 4017",
        "Stainless Steel Hex Head Bolt M8x50 ISO 4017",
    }
    assert all(0 < h.score < 1 for h in response.results)
    assert (response.search_mode, response.query_type) == ("fulltext", "keyword")
    hit = response.results[0]
    assert (hit.collection, hit.record_type, hit.source_type) == ("manufacturing", "fastener", "file_upload")
    assert hit.updated_at.endswith("Z") and hit.collection_data["standard"] == "ISO 4017"
    uuid.UUID(hit.record_id)


async def test_words_that_never_meet_in_one_record_match_any_of_them(async_engine, catalog) -> None:
    response = await _search(async_engine, catalog, query="washer titanium")
    assert set(_names(response)) == {"Washer M8 DIN 125", "Titanium Socket Cap Screw M6x20"}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (
            {"price_eur_min": 10},
            {"Washer M8 DIN 125", "Titanium Socket Cap Screw M6x20"},
        ),  # 9.5 < 10 < 10.5: numeric
        (
            {"price_eur_max": "9.5"},
            {
                "Stainless Steel Hex Head Bolt M8x40 ISO 4017",
                "Stainless Steel Hex Head Bolt M8x50 ISO 4017",
                "Zinc Hex Head Bolt M8x40 DIN 933",
            },
        ),
        ({"price_eur_gt": 9.5, "price_eur_lt": 100}, {"Washer M8 DIN 125"}),
        ({"in_stock": False}, {"Zinc Hex Head Bolt M8x40 DIN 933", "Titanium Socket Cap Screw M6x20"}),
        ({"country": "FR,US"}, {"Zinc Hex Head Bolt M8x40 DIN 933", "Titanium Socket Cap Screw M6x20"}),
        ({"country_in": ["IT"]}, {"Washer M8 DIN 125"}),
        (
            {"released_min": "2026-01-01"},
            {"Stainless Steel Hex Head Bolt M8x40 ISO 4017", "Stainless Steel Hex Head Bolt M8x50 ISO 4017"},
        ),
        ({"material": "Stainless Steel A2", "in_stock": "true", "country": "IT"}, {"Washer M8 DIN 125"}),
    ],
)
async def test_filters_alone(async_engine, catalog, filters, expected) -> None:
    response = await _search(async_engine, catalog, filters=filters)
    assert set(_names(response)) == expected
    assert response.total_estimate == len(expected)
    assert all(h.score == 1.0 for h in response.results)


async def test_filters_narrow_a_query(async_engine, catalog) -> None:
    response = await _search(
        async_engine, catalog, query="bolt", filters={"country": "DE", "price_eur_max": 0.12}
    )
    assert _names(response) == ["Stainless Steel Hex Head Bolt M8x40 ISO 4017"]
    assert response.zero_result_fallback_used is False


async def test_no_match_with_filters_falls_back_to_the_filters_and_says_so(async_engine, catalog) -> None:
    response = await _search(async_engine, catalog, query="unobtainium", filters={"country": "US"})
    assert _names(response) == ["Titanium Socket Cap Screw M6x20"]
    assert response.zero_result_fallback_used is True
    assert response.results[0].score == 0.0
    empty = await _search(async_engine, catalog, query="unobtainium")
    assert empty.results == [] and empty.total_estimate == 0 and empty.zero_result_fallback_used is False


@pytest.mark.parametrize(
    ("sort", "expected_first"),
    [
        ("-price_eur", "Titanium Socket Cap Screw M6x20"),
        ("price_eur", "Stainless Steel Hex Head Bolt M8x40 ISO 4017"),
        ("name", "Stainless Steel Hex Head Bolt M8x40 ISO 4017"),
        ("-name", "Zinc Hex Head Bolt M8x40 DIN 933"),
        ("released", "Titanium Socket Cap Screw M6x20"),
        ("-released", "Stainless Steel Hex Head Bolt M8x40 ISO 4017"),
    ],
)
async def test_sort_by_data_fields_and_columns(async_engine, catalog, sort, expected_first) -> None:
    response = await _search(async_engine, catalog, filters={"price_eur_min": 0}, sort=sort)
    assert response.results[0].name == expected_first
    assert len(response.results) == 5


async def test_sort_applies_to_a_query_too(async_engine, catalog) -> None:
    response = await _search(async_engine, catalog, query="bolt", sort="-price_eur")
    assert [h.collection_data["price_eur"] for h in response.results] == [9.5, 0.15, 0.12]


async def test_limit_offset_has_more_and_total(async_engine, catalog) -> None:
    pages = [
        await _search(async_engine, catalog, filters={"price_eur_min": 0}, sort="name", limit=2, offset=o)
        for o in (0, 2, 4)
    ]
    assert [len(p.results) for p in pages] == [2, 2, 1]
    assert [p.has_more for p in pages] == [True, True, False]
    assert all(p.total_estimate == 5 for p in pages)
    assert len({h.record_id for p in pages for h in p.results}) == 5
    assert (pages[1].offset, pages[1].limit) == (2, 2)


async def test_total_of_a_ranked_query_on_every_page(async_engine, catalog) -> None:
    # "bolt" matches three records: every one was ranked, so each page's total is exact
    pages = [await _search(async_engine, catalog, query="bolt", limit=1, offset=o) for o in (0, 1, 2, 3)]
    assert [p.total_estimate for p in pages] == [3, 3, 3, 3]
    assert [p.has_more for p in pages] == [True, True, False, False]
    assert [len(p.results) for p in pages] == [1, 1, 1, 0]


async def test_total_counts_past_the_ranked_candidates(async_engine, catalog, monkeypatch) -> None:
    # with fewer candidates ranked (2) than matches (3), the total is counted, not the candidates
    monkeypatch.setattr(sql, "RANK_CANDIDATES", 2)
    response = await _search(async_engine, catalog, query="bolt", limit=1)
    assert response.total_estimate == 3 and response.has_more is True


async def test_formats(async_engine, catalog) -> None:
    compact = await _search(async_engine, catalog, query="washer", format="compact")
    assert set(compact.to_dict()["results"][0]) == {"record_id", "name", "score", "collection_data"}
    as_yaml = await _search(async_engine, catalog, query="washer", format="yaml")
    body, media_type = as_yaml.render()
    assert media_type == "application/yaml"
    assert yaml.safe_load(body)["results"][0]["name"] == "Washer M8 DIN 125"
    timings = as_yaml.to_dict()["metadata"]["timings"]
    assert set(timings) == {"classify_ms", "search_ms", "hydrate_ms"}


async def test_archived_records_and_staging_generations_are_not_searched(async_engine, catalog) -> None:
    assert (await _search(async_engine, catalog, query="SS-M8-99")).results == []
    assert (await _search(async_engine, catalog, query="SS-M8-77")).results == []
    assert (await _search(async_engine, catalog, query="staged archived")).results == []


async def test_another_tenants_collection_is_not_found_and_its_records_invisible(
    async_engine, catalog
) -> None:
    with pytest.raises(NotFound):
        await _search(async_engine, catalog, collection="secret", query="bolt")
    with pytest.raises(NotFound):
        await _search(
            async_engine, catalog, collection="manufacturing", tenant=catalog.other_tenant_id, query="bolt"
        )
    mine = await _search(async_engine, catalog, query="SS-M8-40-A2")
    assert "Secret Bolt SS-M8-40-A2" not in _names(mine)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"query": "x" * 501}, "maximum is 500"),
        ({"query": "bolt", "limit": 101}, "limit"),
        ({"query": "bolt", "filters": {"colour": "red"}}, "unknown filter field"),
        ({"query": "bolt", "filters": {"price_eur_min": "cheap"}}, "expects a number"),
        ({"query": "bolt", "sort": "-weight"}, "cannot sort by 'weight'"),
        ({}, "query is required"),
    ],
)
async def test_invalid_requests_are_refused(async_engine, catalog, kw, message) -> None:
    with pytest.raises(InvalidInput, match=message):
        await _search(async_engine, catalog, **kw)


async def test_unknown_collection_is_not_found(async_engine, catalog) -> None:
    with pytest.raises(NotFound, match="'nowhere'"):
        await _search(async_engine, catalog, collection="nowhere", query="bolt")


async def test_hostile_text_is_only_ever_data(async_engine, catalog, sync_engine) -> None:
    for query in ["'; DROP TABLE records; --", "bolt) OR 1=1 --", "\\x00 & | ! <-> :*", '"unterminated']:
        response = await _search(async_engine, catalog, query=query)
        assert "Washer M8 DIN 125" not in _names(response)
    response = await _search(async_engine, catalog, filters={"country": "DE' OR '1'='1"})
    assert response.results == []
    with sync_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM records")).scalar() > 0


async def test_identical_searches_are_cached_until_the_collection_is_written(
    async_engine, catalog, sync_engine, reader_kind
) -> None:
    # one collection per reader: each run writes its own
    name = f"cached_{reader_kind}"
    cache = MemorySearchCache()
    first = await _search(async_engine, catalog, query="rivet", cache=cache)
    again = await _search(async_engine, catalog, query="rivet", cache=cache)
    assert (first.cache_hit, again.cache_hit) == (False, True)
    assert again.results == first.results == []
    with Session(sync_engine) as s:
        ingest_records(
            s,
            tenant_id=catalog.tenant_id,
            collection_name=name,
            entity_type="fastener",
            records=[{"name": "Pop Rivet 4mm", "material": "Aluminium"}],
        )
        s.commit()
    assert (
        await _search(async_engine, catalog, query="rivet", cache=cache)
    ).cache_hit is True  # other collection
    # "manufacturing" has a replace pending (writes to it are refused): "cached" is written instead
    cached = await _search(async_engine, catalog, collection=name, query="rivet", cache=cache)
    hit = await _search(async_engine, catalog, collection=name, query="rivet", cache=cache)
    assert (cached.cache_hit, hit.cache_hit, _names(hit)) == (False, True, ["Pop Rivet 4mm"])
    with Session(sync_engine) as s:
        ingest_records(
            s,
            tenant_id=catalog.tenant_id,
            collection_name=name,
            entity_type="fastener",
            records=[{"name": "Blind Rivet 4.8mm", "material": "Steel", "price_eur": 0.02}],
        )
        s.commit()
    fresh = await _search(async_engine, catalog, collection=name, query="rivet", cache=cache)
    assert fresh.cache_hit is False and set(_names(fresh)) == {"Blind Rivet 4.8mm", "Pop Rivet 4mm"}


async def test_redis_cache_serves_a_second_process_view(async_engine, catalog) -> None:
    redis_cache = RedisSearchCache("redis://127.0.0.1:6379/15")
    try:
        await redis_cache._client.ping()
    except Exception:
        pytest.skip("no Redis on 127.0.0.1:6379")
    query = f"zq{uuid.uuid4().hex[:6]}"  # matches nothing: the filters answer
    first = await _search(async_engine, catalog, query=query, filters={"country": "IT"}, cache=redis_cache)
    second = await _search(
        async_engine, catalog, query=query, filters={"country": "IT"}, cache=redis_cache, format="compact"
    )
    assert (first.cache_hit, second.cache_hit) == (False, True)
    assert second.results == first.results and second.zero_result_fallback_used is True
    assert second.format == "compact"
    await redis_cache.close()


async def test_a_field_added_by_a_later_write_can_be_filtered_at_once(sync_engine, async_engine) -> None:
    # the field catalog is kept per search version: the write that adds a field bumps the version
    with Session(sync_engine) as s:
        tenant = create_tenant(s, f"fields-{uuid.uuid4().hex[:8]}").id
        ingest_records(s, tenant_id=tenant, collection_name="paint", entity_type="paint",
                       records=[{"name": "Primer", "price_eur": 4}])
        s.commit()
    catalog = Catalog(tenant, tenant, "paint")
    with pytest.raises(InvalidInput, match="colour"):
        await _search(async_engine, catalog, filters={"colour": "red"})
    with Session(sync_engine) as s:
        ingest_records(s, tenant_id=tenant, collection_name="paint", entity_type="paint",
                       records=[{"name": "Gloss", "price_eur": 9, "colour": "red"}])
        s.commit()
    response = await _search(async_engine, catalog, filters={"colour": "red"})
    assert _names(response) == ["Gloss"]
