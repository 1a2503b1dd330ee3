"""Hostile files and bodies: deep nesting, oversized records, 100k columns, PDF bombs, files that are
not what they claim, wrapped arrays, all-rejected files and malformed JSON. Never a 500, never a
RecursionError; one bad record never sinks the file."""

from __future__ import annotations

import json
import zlib

import httpx
import pytest_asyncio

from core.settings import get_settings
from tests.integration.conftest import TenantKey, register_tenant
from tests.unit.ingestion.samples import pdf_of

V1 = "/api/v1"


@pytest_asyncio.fixture
async def tenant(live_client: httpx.AsyncClient) -> TenantKey:
    return await register_tenant(live_client, "hostile")


async def upload(client: httpx.AsyncClient, tenant: TenantKey, content: bytes, filename: str,
                 collection: str = "hostile", **params: str) -> httpx.Response:
    return await client.post(f"{V1}/ingest/{collection}/file", params={"entity_type": "item", **params},
                             files={"file": (filename, content, "application/octet-stream")},
                             headers=tenant.headers)


def error(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False and body["error"]["code"] and body["detail"]
    return body


def deep_json(depth: int) -> str:
    return "[" * depth + "]" * depth


async def test_json_array_2000_deep_is_400(live_client, tenant) -> None:
    content = ('[{"name": "ok"}, {"name": "deep", "v": ' + deep_json(2000) + "}]").encode()
    body = error(await upload(live_client, tenant, content, "deep.json"), 400)
    assert "deep" in body["detail"]


async def test_ndjson_line_2000_deep_is_rejected_by_line(live_client, tenant) -> None:
    lines = ['{"name": "first"}', '{"name": "deep", "v": ' + deep_json(2000) + "}", '{"name": "third"}']
    response = await upload(live_client, tenant, "\n".join(lines).encode(), "rows.ndjson")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["summary"]["accepted"] == 2 and body["summary"]["rejected"] == 1
    assert body["errors"][0]["line"] == 2 and "deep" in body["errors"][0]["reason"]


async def test_moderately_deep_record_is_rejected_with_the_depth_limit(live_client, tenant) -> None:
    limit = get_settings().max_nesting_depth
    rows = [{"name": "flat", "v": 1}, {"name": "nested", "v": json.loads(deep_json(limit + 5))}]
    response = await live_client.post(f"{V1}/ingest/hostile", params={"entity_type": "item"}, json=rows,
                                      headers=tenant.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["summary"]["accepted"] == 1
    assert f"deeper than {limit}" in body["errors"][0]["reason"] and body["errors"][0]["line"] == 2


async def test_xml_5000_deep_is_rejected_per_record(live_client, tenant) -> None:
    content = (b"<items><item><name>plain</name></item><item><name>deep</name>" + b"<d>" * 5000 + b"x"
               + b"</d>" * 5000 + b"</item></items>")
    response = await upload(live_client, tenant, content, "deep.xml", record_tag="item")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["summary"]["accepted"] == 1 and body["errors"][0]["line"] == 2
    assert "nest deeper" in body["errors"][0]["reason"]


async def test_json_body_1500_deep_is_400(live_client, tenant) -> None:
    deep = deep_json(1500).encode()
    for path in (f"{V1}/ingest/hostile?entity_type=item", f"{V1}/search/hostile", f"{V1}/connectors"):
        response = await live_client.post(path, content=deep, headers={**tenant.headers,
                                                                        "content-type": "application/json"})
        error(response, 400)
    wrapped = b'{"query": "x", "filters": {"a": ' + deep + b"}}"
    error(await live_client.post(f"{V1}/search/hostile", content=wrapped,
                                 headers={**tenant.headers, "content-type": "application/json"}), 400)


async def test_record_past_the_tsvector_limit_is_rejected_and_the_rest_ingests(live_client, tenant) -> None:
    words = " ".join(f"w{i}x" for i in range(300_000))  # ~2 MB of distinct words: past tsvector's 1 MB
    rows = [{"name": "small", "text": "bolt"}, {"name": "huge", "text": words}, {"name": "after", "text": "nut"}]
    ndjson = "\n".join(json.dumps(r) for r in rows).encode()
    response = await upload(live_client, tenant, ndjson, "big.ndjson")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["summary"]["accepted"] == 2 and body["summary"]["rejected"] == 1
    assert body["errors"][0]["line"] == 2 and "limit" in body["errors"][0]["reason"]
    hits = await live_client.get(f"{V1}/search/hostile?q=nut", headers=tenant.headers)
    assert [h["name"] for h in hits.json()["results"]] == ["after"]


async def test_one_field_cap_for_every_format(live_client, tenant) -> None:
    cap = get_settings().max_field_bytes
    big = "z" * (cap + 10)
    csv_body = f"name,notes\nok,short\nbig,{big}\n".encode()
    json_body = json.dumps([{"name": "ok", "notes": "short"}, {"name": "big", "notes": big}]).encode()
    reasons = []
    for content, filename in ((csv_body, "f.csv"), (json_body, "f.json")):
        response = await upload(live_client, tenant, content, filename, collection=f"cap-{filename[-3:]}")
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["summary"]["accepted"] == 1 and body["summary"]["rejected"] == 1
        assert body["errors"][0]["field"] == "notes"
        reasons.append(body["errors"][0]["reason"])
    assert reasons[0] == reasons[1] and str(cap) in reasons[0]


async def test_csv_with_100k_columns_rejects_the_row_not_the_file(live_client, tenant) -> None:
    width = 100_000
    header = "name," + ",".join(f"c{i}" for i in range(width - 1))
    wide = "wide," + ",".join("1" for _ in range(width - 1))
    narrow = "narrow" + "," * (width - 1)
    content = "\n".join([header, wide, narrow]).encode()
    response = await upload(live_client, tenant, content, "wide.csv")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["summary"]["accepted"] == 1 and body["errors"][0]["line"] == 2
    assert "fields" in body["errors"][0]["reason"]


def _pdf_with_stream(content: bytes) -> bytes:
    stream = zlib.compress(content, 9)
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    return pdf_of(objs)


async def test_pdf_bomb_is_refused_quickly(live_client, tenant) -> None:
    ok = _pdf_with_stream(b"BT /F1 12 Tf 72 720 Td (Hex bolt M8 catalog) Tj ET")
    assert (await upload(live_client, tenant, ok, "ok.pdf")).status_code == 200
    bomb = _pdf_with_stream(b"BT /F1 12 Tf 72 720 Td (" + b"a" * 60_000_000 + b") Tj ET")
    assert len(bomb) < 100_000  # a small file that inflates to 60 MB
    body = error(await upload(live_client, tenant, bomb, "bomb.pdf"), 413)
    assert "inflates" in body["detail"]


async def test_png_named_csv_is_refused(live_client, tenant) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00" + bytes(64)
    body = error(await upload(live_client, tenant, png, "catalog.csv"), 400)
    assert "PNG" in body["detail"]
    binary = b"name,x\n" + bytes(range(256)) * 4
    error(await upload(live_client, tenant, binary, "data.csv"), 400)


async def test_json_object_wrapping_an_array_is_400_but_one_record_is_fine(live_client, tenant) -> None:
    wrapped = json.dumps({"products": [{"name": "a"}, {"name": "b"}]}, indent=2).encode()
    body = error(await upload(live_client, tenant, wrapped, "wrapped.json"), 400)
    assert "'products'" in body["detail"]
    one = json.dumps({"name": "Single bolt", "collection_data": {"size": "M8"}}, indent=2).encode()
    response = await upload(live_client, tenant, one, "one.json")
    assert response.status_code == 200 and response.json()["summary"]["accepted"] == 1
    flat = await live_client.post(f"{V1}/ingest/hostile", params={"entity_type": "item"},
                                  json={"name": "Flat washer", "size": "M8"}, headers=tenant.headers)
    assert flat.status_code == 200 and flat.json()["summary"]["accepted"] == 1


async def test_a_file_whose_every_row_fails_is_422_with_the_row_errors(live_client, tenant) -> None:
    content = b"name,price\n,1\n,2\n"
    body = error(await upload(live_client, tenant, content, "nameless.csv"), 422)
    assert body["error"]["summary"]["rejected"] == 2 and body["error"]["summary"]["accepted"] == 0
    assert [e["line"] for e in body["error"]["errors"]] == [2, 3]
    records = await live_client.post(f"{V1}/ingest/hostile", params={"entity_type": "item"},
                                     json=[{"price": 1}, 7], headers=tenant.headers)
    assert error(records, 422)["error"]["summary"]["rejected"] == 2


async def test_malformed_json_bodies_say_so_with_the_position(live_client, tenant) -> None:
    headers = {**tenant.headers, "content-type": "application/json"}
    for path in (f"{V1}/ingest/hostile?entity_type=item", f"{V1}/search/hostile"):
        body = error(await live_client.post(path, content=b'{"query": "bolt",}', headers=headers), 400)
        assert body["detail"].startswith("malformed JSON") and "byte 17" in body["detail"], body
