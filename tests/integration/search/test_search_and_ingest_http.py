"""The search and ingestion contract through HTTP: every parameter, status code and error body."""

from __future__ import annotations

import json

import httpx
import pytest
import pytest_asyncio
import yaml

from tests.integration.conftest import TenantKey, register_tenant

V1 = "/api/v1"
CATALOG = (
    b"name,part_number,material,standard,price_eur,in_stock,country\n"
    b"Stainless Steel Hex Head Bolt M8x40 ISO 4017,SS-M8-40-A2,Stainless Steel A2,ISO 4017,0.12,true,DE\n"
    b"Hex Nut M8 DIN 934,HN-M8-934,Steel zinc plated,DIN 934,0.03,true,DE\n"
    b"Flat Washer M8 DIN 125,FW-M8-125,Stainless Steel A2,DIN 125,0.02,false,FR\n"
    b"Socket Cap Screw M6x20,SC-M6-20-129,Alloy steel 12.9,ISO 4762,0.25,true,IT\n"
    b"Threaded Rod M10 1m,TR-M10-1000,Steel,DIN 975,9.50,true,DE\n"
)


def assert_error(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False and body["detail"] and body["error"]["code"]
    return body


async def upload(client: httpx.AsyncClient, tenant: TenantKey, collection: str, content: bytes,
                 filename: str = "catalog.csv", **params: str) -> httpx.Response:
    query = {"entity_type": "fastener", **params}
    return await client.post(f"{V1}/ingest/{collection}/file", params=query,
                             files={"file": (filename, content, "application/octet-stream")},
                             headers=tenant.headers)


@pytest_asyncio.fixture
async def shop(live_client: httpx.AsyncClient) -> TenantKey:
    tenant = await register_tenant(live_client, "shop")
    response = await upload(live_client, tenant, "manufacturing", CATALOG)
    assert response.status_code == 200, response.text
    return tenant


async def search(client: httpx.AsyncClient, tenant: TenantKey, collection: str = "manufacturing",
                 **body) -> httpx.Response:
    return await client.post(f"{V1}/search/{collection}", json=body, headers=tenant.headers)


async def test_upload_reports_the_contract_result_and_dedups_a_reupload(live_client, shop) -> None:
    again = await upload(live_client, shop, "manufacturing", CATALOG)
    body = again.json()
    assert body["summary"] == {"submitted": 5, "accepted": 0, "rejected": 0, "dedup_skipped": 5, "inserted": 0, "updated": 0, "unchanged": 5, "archived": 0, "replaced_in_file": 0, "replaced": []}
    assert body["metadata"]["file_hash"].startswith("sha256:")
    assert body["metadata"]["reconciliation_passed"] is True
    assert set(body) == {"ingestion_id", "status", "summary", "errors", "metadata"}


async def test_identifier_query_scores_one_and_ranks_first(live_client, shop) -> None:
    body = (await search(live_client, shop, query="SS-M8-40-A2")).json()
    assert body["metadata"]["query_type"] == "identifier"
    assert body["results"][0]["collection_data"]["part_number"] == "SS-M8-40-A2"
    assert body["results"][0]["score"] == 1.0
    assert all(0 <= r["score"] <= 1 for r in body["results"])
    timings = body["metadata"]["timings"]
    assert {"classify_ms", "search_ms", "hydrate_ms"} <= set(timings)


async def test_a_misspelt_part_number_is_found_and_says_fuzzy(live_client, shop) -> None:
    body = (await search(live_client, shop, query="SC-M6-20-192")).json()  # 9 and 2 swapped
    assert body["results"][0]["collection_data"]["part_number"] == "SC-M6-20-129"
    assert body["results"][0]["match"] == "fuzzy" and body["results"][0]["score"] < 1.0
    assert body["metadata"]["fuzzy_match_used"] is True
    got = (await live_client.get(f"{V1}/search/manufacturing", params={"q": "TR-M10-100O"},
                                 headers=shop.headers)).json()  # a letter O for the zero
    assert [r["collection_data"]["part_number"] for r in got["results"]] == ["TR-M10-1000"]


async def test_keyword_search_with_typed_filters_sort_and_paging(live_client, shop) -> None:
    body = (await search(live_client, shop, query="M8", filters={"price_eur_min": 0.025, "country": "DE"},
                         sort="-price_eur", limit=1)).json()
    assert [r["collection_data"]["part_number"] for r in body["results"]] == ["SS-M8-40-A2"]
    assert body["pagination"] == {"offset": 0, "limit": 1, "has_more": True}
    assert body["metadata"]["total_estimate"] == 2
    second = (await search(live_client, shop, query="M8", filters={"price_eur_min": 0.025, "country": "DE"},
                           sort="-price_eur", limit=1, offset=1)).json()
    assert second["results"][0]["collection_data"]["part_number"] == "HN-M8-934"
    assert second["pagination"]["has_more"] is False


async def test_filter_suffixes_and_comma_lists(live_client, shop) -> None:
    lt = (await search(live_client, shop, filters={"price_eur_lt": 0.1}, sort="price_eur")).json()
    assert [r["collection_data"]["price_eur"] for r in lt["results"]] == [0.02, 0.03]
    multi = (await search(live_client, shop, filters={"country": "FR,IT"})).json()
    assert {r["collection_data"]["country"] for r in multi["results"]} == {"FR", "IT"}
    listed = (await search(live_client, shop, filters={"country_in": ["FR"], "in_stock": False})).json()
    assert [r["collection_data"]["part_number"] for r in listed["results"]] == ["FW-M8-125"]
    numbers = (await search(live_client, shop, filters={"price_eur_gt": 1, "price_eur_max": 10})).json()
    assert [r["collection_data"]["part_number"] for r in numbers["results"]] == ["TR-M10-1000"]


async def test_zero_results_with_filters_fall_back_to_the_filters(live_client, shop) -> None:
    body = (await search(live_client, shop, query="zeppelin", filters={"country": "IT"})).json()
    assert body["metadata"]["zero_result_fallback_used"] is True
    assert [r["collection_data"]["country"] for r in body["results"]] == ["IT"]


async def test_formats_compact_and_yaml(live_client, shop) -> None:
    compact = (await search(live_client, shop, query="washer", format="compact")).json()
    assert set(compact["results"][0]) == {"record_id", "name", "score", "collection_data"}
    as_yaml = await search(live_client, shop, query="washer", format="yaml")
    assert as_yaml.headers["content-type"].startswith("application/yaml")
    assert yaml.safe_load(as_yaml.text)["results"][0]["name"] == "Flat Washer M8 DIN 125"


async def test_get_search_maps_q_limit_offset(live_client, shop) -> None:
    body = (await live_client.get(f"{V1}/search/manufacturing", params={"q": "M8", "limit": 2},
                                  headers=shop.headers)).json()
    assert body["pagination"]["limit"] == 2 and len(body["results"]) == 2
    assert_error(await live_client.get(f"{V1}/search/manufacturing", headers=shop.headers), 400)


async def test_identical_search_is_cached_until_a_write(live_client, shop) -> None:
    first = (await search(live_client, shop, query="nut")).json()
    second = (await search(live_client, shop, query="nut")).json()
    assert first["metadata"]["cache_hit"] is False and second["metadata"]["cache_hit"] is True
    await upload(live_client, shop, "manufacturing", b"name,part_number\nWing Nut M8,WN-M8\n", "more.csv")
    third = (await search(live_client, shop, query="nut")).json()
    assert third["metadata"]["cache_hit"] is False
    assert "Wing Nut M8" in [r["name"] for r in third["results"]]


@pytest.mark.parametrize(
    "body",
    [
        {"query": "x" * 501},
        {"query": ""},
        {},
        {"query": "bolt", "limit": 0},
        {"query": "bolt", "limit": 101},
        {"query": "bolt", "offset": -1},
        {"query": "bolt", "format": "xml"},
        {"query": "bolt", "sort": "no_such_field"},
        {"query": "bolt", "sort": "price_eur; DROP TABLE records"},
        {"filters": {"no_such_field": 1}},
        {"filters": {"price_eur_min": "cheap"}},
        {"filters": {"in_stock": "maybe"}},
        {"query": "bolt", "unknown_field": 1},
        {"query": "bolt", "limit": "ten"},
    ],
)
async def test_bad_search_requests_are_400(live_client, shop, body) -> None:
    assert_error(await search(live_client, shop, **body), 400)


async def test_unknown_collection_404_and_missing_key_401(live_client, shop) -> None:
    assert_error(await search(live_client, shop, "no-such-collection", query="bolt"), 404)
    assert_error(await live_client.post(f"{V1}/search/manufacturing", json={"query": "bolt"}), 401)


async def test_another_tenants_collection_is_invisible(live_client, shop) -> None:
    stranger = await register_tenant(live_client, "stranger")
    assert_error(await search(live_client, stranger, query="bolt"), 404)
    # the same collection name in another tenant holds only that tenant's records
    await upload(live_client, stranger, "manufacturing", b"name,part_number\nRivet,RV-1\n")
    names = [r["name"] for r in (await search(live_client, stranger, query="M8")).json()["results"]]
    assert names == []
    mine = [r["name"] for r in (await search(live_client, shop, query="rivet")).json()["results"]]
    assert "Rivet" not in mine


@pytest.mark.parametrize(
    ("filename", "content", "params", "expected"),
    [
        ("items.json", json.dumps([{"name": "A", "sku": "A-1"}, {"name": "B", "sku": "B-2"}]).encode(), {}, 2),
        ("items.ndjson", b'{"name": "A", "sku": "A-1"}\n{"name": "B"}\n', {}, 2),
        ("items.xml", b"<items><item><name>A</name><sku>A-1</sku></item><item><name>B</name></item></items>",
         {"record_tag": "item"}, 2),
        ("latin1.csv", "name,city\nBr\xe4u,M\xfcnchen\n".encode("latin-1"), {}, 1),
        ("utf16.csv", "name,city\nBräu,München\n".encode("utf-16"), {}, 1),
    ],
)
async def test_every_format_ingests(live_client, filename, content, params, expected) -> None:
    tenant = await register_tenant(live_client, "formats")
    body = (await upload(live_client, tenant, "docs", content, filename, **params)).json()
    assert body["summary"]["accepted"] == expected, body


async def test_bad_files_are_refused_and_change_nothing(live_client, shop) -> None:
    before = (await search(live_client, shop, filters={"price_eur_min": 0})).json()["metadata"]["total_estimate"]
    xxe = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r><i><name>&x;</name></i></r>'
    bomb = (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            b"<r><i><name>&b;</name></i></r>")
    for filename, content, params in (
        ("evil.xml", xxe, {"record_tag": "i"}),
        ("bomb.xml", bomb, {"record_tag": "i"}),
        ("fake.pdf", b"this is not a pdf", {}),
        ("broken.json", b'[{"name": "A"', {}),
    ):
        response = await upload(live_client, shop, "manufacturing", content, filename, **params)
        assert 400 <= response.status_code < 500, (filename, response.text)
        assert response.json()["success"] is False
    after = (await search(live_client, shop, filters={"price_eur_min": 0})).json()["metadata"]["total_estimate"]
    assert after == before


async def test_malformed_rows_are_rejected_with_their_line(live_client) -> None:
    tenant = await register_tenant(live_client, "rows")
    body = (await upload(live_client, tenant, "docs", b'{"name": "ok"}\n{not json}\n{"name": "also ok"}\n',
                         "rows.ndjson")).json()
    assert body["summary"]["accepted"] == 2 and body["summary"]["rejected"] == 1
    assert body["errors"][0]["line"] == 2


async def test_upload_errors_missing_entity_type_and_oversize(live_client, app_settings, monkeypatch) -> None:
    tenant = await register_tenant(live_client, "limits")
    response = await live_client.post(f"{V1}/ingest/docs/file", files={"file": ("a.csv", b"name\nA\n")},
                                      headers=tenant.headers)
    assert_error(response, 422)
    monkeypatch.setattr(app_settings, "max_upload_bytes", 1000)
    assert_error(await upload(live_client, tenant, "docs", b"name\n" + b"A\n" * 2000), 413)


async def test_record_list_ingestion(live_client) -> None:
    tenant = await register_tenant(live_client, "records")
    response = await live_client.post(f"{V1}/ingest/parts", params={"entity_type": "part"}, headers=tenant.headers,
                                      json=[{"name": "Gear 20T", "module": 1.5}, {"name": "Gear 40T", "module": 1.5}])
    assert response.json()["summary"]["accepted"] == 2
    hits = (await search(live_client, tenant, "parts", filters={"module": 1.5})).json()["results"]
    assert {h["name"] for h in hits} == {"Gear 20T", "Gear 40T"}
    assert_error(await live_client.post(f"{V1}/ingest/parts", params={"entity_type": "part"},
                                        headers=tenant.headers, json={"items": [{"name": "not a list"}]}), 400)


async def test_health_search_and_metrics_count_searches(live_client, shop) -> None:
    await search(live_client, shop, query="zeppelin")
    stats = (await live_client.get(f"{V1}/health/search")).json()
    assert stats["searches_total"] >= 1 and stats["latency_ms"]["p95"] is not None
    assert 0 < stats["zero_result_rate"] <= 1
    metrics = (await live_client.get(f"{V1}/metrics")).text
    assert "kariz_search_requests_total" in metrics and "kariz_ingested_records_total" in metrics


async def test_keyed_upload_over_http_updates_in_place_and_a_second_key_is_409(live_client) -> None:
    tenant = await register_tenant(live_client, "keyed-http")
    first = await upload(live_client, tenant, "catalog", b"sku,name,price\nPG-0001-Z,Gasket,23.98\n", "a.csv",
                         key_column="sku")
    assert first.status_code == 200, first.text
    again = await upload(live_client, tenant, "catalog", b"sku,name,price\nPG-0001-Z,Gasket,24.98\n", "b.csv")
    summary = again.json()["summary"]
    assert (summary["updated"], summary["inserted"], summary["accepted"]) == (1, 0, 1)
    found = (await search(live_client, tenant, "catalog", query="gasket", search_mode="fulltext")).json()
    assert [r["collection_data"]["price"] for r in found["results"]] == [24.98]
    clash = await upload(live_client, tenant, "catalog", b"sku,name,price\nX,Y,1\n", "c.csv",
                         key_column="name")
    assert_error(clash, 409)
    assert "keyed by sku" in clash.json()["error"]["message"]
    bad = await live_client.post(f"{V1}/ingest/catalog", params={"entity_type": "part"},
                                 json=[{"sku": ["a", "b"], "name": "n"}], headers=tenant.headers)
    assert_error(bad, 422)
    other = await register_tenant(live_client, "keyed-http-other")  # another tenant's key is its own
    mine = await upload(live_client, other, "catalog", b"sku,name,price\nPG-0001-Z,Gasket,1\n", "a.csv",
                        key_column="name")
    assert mine.json()["summary"]["inserted"] == 1
