"""`POST /estimator/analyze` through the real app on real photos: the stream's shape and order, the
JSON answer, totals, stored estimates, usage, and every kind of bad input (4xx, nothing stored)."""

from __future__ import annotations

import io

import httpx
import msgspec
import pytest
import sqlalchemy as sa
from PIL import Image, ImageOps

from api.estimator.schemas import EstimateEnvelope, ImageResult, Item, Summary
from core.streams.sse import parse_sse
from tests.estimator_bad_images import corrupt_png, gif, huge_png, polyglot_jpeg, truncated
from tests.estimator_photos import b64, data_url, photo_bytes
from tests.integration.conftest import TenantKey

ANALYZE = "/api/v1/estimator/analyze"
ESTIMATES = "/api/v1/estimator/estimates"


async def analyze(client: httpx.AsyncClient, key: TenantKey, images: list[str], **extra: object) -> httpx.Response:
    return await client.post(ANALYZE, json={"tenantId": key.tenant_id, "images": images, **extra}, headers=key.headers)


async def stored_count(client: httpx.AsyncClient, key: TenantKey) -> int:
    response = await client.get(ESTIMATES, headers=key.headers)
    assert response.status_code == 200
    return response.json()["data"]["total"]


def flipped(name: str) -> bytes:
    buf = io.BytesIO()
    ImageOps.mirror(Image.open(io.BytesIO(photo_bytes(name))).convert("RGB")).save(buf, "JPEG", quality=92)
    return buf.getvalue()


async def test_the_stream_announces_start_each_image_items_summary_done(client: httpx.AsyncClient,
                                                                         tenant_key: TenantKey) -> None:
    images = [data_url(photo_bytes("coffee.png")), b64(photo_bytes("motorcycle_left.png", "JPEG")),
              data_url(photo_bytes("astronaut.png", "WEBP"), "image/webp")]
    response = await analyze(client, tenant_key, images)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(response.text)
    names = [name for _, name, _ in events]
    assert names == ["start", "image", "image", "image", "item", "item", "summary", "done"]
    assert [i for i, _, _ in events] == list(range(1, len(events) + 1))
    start, done = events[0][2], events[-1][2]
    assert start["images"] == 3 and done == {"estimateId": start["estimateId"], "stored": True}

    image_events = [msgspec.convert(d, ImageResult) for _, n, d in events if n == "image"]
    assert [e.index for e in image_events] == [0, 1, 2]
    assert [(e.width, e.height) for e in image_events] == [(600, 400), (741, 500), (512, 512)]
    assert [i.label for i in image_events[0].items] == ["cup"]
    assert [i.label for i in image_events[1].items] == ["motorcycle"]
    assert image_events[2].items == []  # the astronaut is a person: not something to move

    items = {d["label"]: msgspec.convert(d, Item) for _, n, d in events if n == "item"}
    assert set(items) == {"cup", "motorcycle"}
    cup, bike = items["cup"], items["motorcycle"]
    assert (cup.quantity, cup.fragile, cup.packing.method, cup.packing.box) == (1, True, "box", "medium")
    assert (bike.packing.method, bike.fragile) == ("blanket", False) and bike.packing.blankets >= 1
    for item in items.values():
        d = item.dimensions_cm
        assert item.volume_m3 == pytest.approx(d.width * d.depth * d.height / 1e6, abs=0.0006)
        assert item.volume_ft3 == pytest.approx(item.volume_m3 * 35.3147, abs=0.01)
        assert item.range_cm.low.height < d.height < item.range_cm.high.height

    summary = msgspec.convert(events[-2][2], Summary)
    assert summary.totals.items == sum(i.quantity for i in items.values())
    assert summary.totals.volume_m3 == pytest.approx(sum(i.volume_m3 * i.quantity for i in items.values()), abs=1e-6)
    assert summary.totals.weight_kg == pytest.approx(sum(i.weight_kg * i.quantity for i in items.values()))
    assert summary.packing.boxes.medium == 1 and summary.packing.blankets == bike.packing.blankets
    assert summary.packing.recommended.vehicle == "cargo van"
    assert any("person (1)" in a for a in summary.assumptions)

    stored = await client.get(f"{ESTIMATES}/{start['estimateId']}", headers=tenant_key.headers)
    assert stored.status_code == 200
    data = msgspec.convert(stored.json(), EstimateEnvelope).data
    assert data.summary == summary and [i.label for i in data.items] == ["cup", "motorcycle"]
    assert data.images_kept == 0


async def test_accept_json_gives_the_whole_estimate_as_stored(client: httpx.AsyncClient, tenant_key: TenantKey) -> None:
    response = await client.post(ANALYZE, headers={**tenant_key.headers, "Accept": "application/json"},
                                 json={"tenantId": tenant_key.tenant_id, "images": [b64(photo_bytes("coffee.png"))],
                                       "notes": "kitchen shelf"})
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    estimate = msgspec.convert(body, EstimateEnvelope).data
    assert estimate.notes == "kitchen shelf" and estimate.tenant_id == tenant_key.tenant_id
    assert [i.label for i in estimate.items] == ["cup"]
    stored = await client.get(f"{ESTIMATES}/{estimate.estimate_id}", headers=tenant_key.headers)
    assert stored.json() == body


async def test_multipart_images_parts(client: httpx.AsyncClient, tenant_key: TenantKey) -> None:
    files = [("images", ("a.bin", photo_bytes("coffee.png", "JPEG"), "application/octet-stream")),
             ("images", ("b.png", photo_bytes("motorcycle_right.png"), "image/png"))]
    response = await client.post(ANALYZE, data={"tenantId": tenant_key.tenant_id}, files=files,
                                 headers={**tenant_key.headers, "Accept": "application/json"})
    assert response.status_code == 200, response.text
    labels = [i["label"] for i in response.json()["data"]["items"]]
    assert labels == ["cup", "motorcycle"]


async def test_the_same_object_in_two_photos_is_counted_once(client: httpx.AsyncClient, tenant_key: TenantKey) -> None:
    images = [b64(photo_bytes("coffee.png")), b64(flipped("coffee.png")), b64(photo_bytes("coffee.png", "WEBP"))]
    response = await client.post(ANALYZE, json={"tenantId": tenant_key.tenant_id, "images": images},
                                 headers={**tenant_key.headers, "Accept": "application/json"})
    data = response.json()["data"]
    assert [(i["label"], i["quantity"]) for i in data["items"]] == [("cup", 1)]
    assert [img["items"][0]["objectId"] for img in data["images"]] == ["cup-1"] * 3
    assert any("2 sighting(s) merged" in a for a in data["summary"]["assumptions"])


async def test_keep_images_stores_the_photos_only_when_asked(client: httpx.AsyncClient, tenant_key: TenantKey) -> None:
    from core.db.models import EstimateImage

    headers = {**tenant_key.headers, "Accept": "application/json"}
    png = photo_bytes("coffee.png")
    kept = await client.post(ANALYZE, headers=headers, json={"tenantId": tenant_key.tenant_id, "images": [b64(png)],
                                                              "keepImages": True})
    plain = await client.post(ANALYZE, headers=headers, json={"tenantId": tenant_key.tenant_id, "images": [b64(png)]})
    assert kept.json()["data"]["imagesKept"] == 1 and plain.json()["data"]["imagesKept"] == 0
    async with client.app.state.session_factory() as session:
        rows = (await session.execute(sa.select(EstimateImage.estimate_id, EstimateImage.data))).all()
    ids = {str(r.estimate_id) for r in rows}
    assert kept.json()["data"]["estimateId"] in ids and plain.json()["data"]["estimateId"] not in ids
    assert next(r.data for r in rows if str(r.estimate_id) == kept.json()["data"]["estimateId"]) == png


async def test_each_image_counts_in_the_usage(client: httpx.AsyncClient, tenant_key: TenantKey) -> None:
    async def used() -> int:
        r = await client.get("/api/v1/usage", headers=tenant_key.headers)
        return r.json()["data"]["requests"]["used"]

    before = await used()  # this GET counted itself
    await analyze(client, tenant_key, [b64(photo_bytes("coffee.png"))] * 4)
    assert await used() == before + 1 + 4  # the analyse request's four images, then this GET


BIG = b"\xff\xd8\xff" + b"\x00" * (10 * 1024 * 1024 + 10)


@pytest.mark.parametrize(("images", "status", "code"), [
    ([], 400, "BAD_REQUEST"),
    ([b64(photo_bytes("coffee.png"))] * 11, 413, "PAYLOAD_TOO_LARGE"),
    ([b64(BIG)], 413, "PAYLOAD_TOO_LARGE"),
    ([b64(gif())], 415, "UNSUPPORTED_MEDIA_TYPE"),
    ([b64(b"hello, not an image")], 415, "UNSUPPORTED_MEDIA_TYPE"),
    (["data:text/plain;base64,aGk="], 415, "UNSUPPORTED_MEDIA_TYPE"),
    ([b64(truncated(photo_bytes("coffee.png", "JPEG")))], 422, "VALIDATION_ERROR"),
    ([b64(corrupt_png())], 422, "VALIDATION_ERROR"),
    ([b64(polyglot_jpeg())], 422, "VALIDATION_ERROR"),
    ([b64(huge_png(20_000, 20_000))], 422, "VALIDATION_ERROR"),
    (["https://example.com/sofa.jpg"], 400, "BAD_REQUEST"),
    (["http://127.0.0.1:9/x.png"], 400, "BAD_REQUEST"),
    (["!!! not base64 !!!"], 400, "BAD_REQUEST"),
    ([b64(photo_bytes("coffee.png")), b64(truncated(photo_bytes("coffee.png")))], 422, "VALIDATION_ERROR"),
], ids=["none", "eleven", "over-10mb", "gif", "text", "data-url-text", "truncated-jpeg", "corrupt-png", "polyglot",
        "huge-png", "https-url", "http-url", "bad-base64", "second-image-bad"])
async def test_bad_images_are_refused_before_the_stream_and_nothing_is_stored(
        client: httpx.AsyncClient, tenant_key: TenantKey, images: list[str], status: int, code: str) -> None:
    response = await analyze(client, tenant_key, images)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False and body["error"]["code"] == code and body["detail"]
    assert await stored_count(client, tenant_key) == 0


@pytest.mark.parametrize(("body", "status"), [
    (b"not json", 400),
    (b"[1, 2]", 400),
    (b'{"images": ["x"]}', 400),
    (b'{"tenantId": "nope", "images": ["x"]}', 400),
    (b'{"tenantId": "00000000-0000-0000-0000-000000000000", "images": [1]}', 400),
])
async def test_malformed_bodies_are_400(client: httpx.AsyncClient, tenant_key: TenantKey, body: bytes, status: int) -> None:
    response = await client.post(ANALYZE, content=body,
                                 headers={**tenant_key.headers, "Content-Type": "application/json"})
    assert response.status_code == status
    assert response.json()["success"] is False


async def test_a_wrong_content_type_is_415(client: httpx.AsyncClient, tenant_key: TenantKey) -> None:
    response = await client.post(ANALYZE, content=b"<xml/>", headers={**tenant_key.headers, "Content-Type": "text/xml"})
    assert response.status_code == 415


async def test_tenants_are_isolated(client: httpx.AsyncClient, tenant_key: TenantKey, other_tenant_key: TenantKey) -> None:
    png = b64(photo_bytes("coffee.png"))
    # analysing for another tenant is refused, and nothing is stored for either
    crossed = await client.post(ANALYZE, json={"tenantId": other_tenant_key.tenant_id, "images": [png]},
                                headers=tenant_key.headers)
    assert crossed.status_code == 403 and crossed.json()["error"]["code"] == "FORBIDDEN"
    assert await stored_count(client, tenant_key) == 0 and await stored_count(client, other_tenant_key) == 0
    mine = await client.post(ANALYZE, json={"tenantId": tenant_key.tenant_id, "images": [png]},
                             headers={**tenant_key.headers, "Accept": "application/json"})
    estimate_id = mine.json()["data"]["estimateId"]
    # the other tenant neither sees it in its list nor reads it by id
    assert await stored_count(client, other_tenant_key) == 0
    peek = await client.get(f"{ESTIMATES}/{estimate_id}", headers=other_tenant_key.headers)
    assert peek.status_code == 404 and peek.json()["error"]["code"] == "NOT_FOUND"
    assert (await client.get(f"{ESTIMATES}/not-a-uuid", headers=tenant_key.headers)).status_code == 404
    assert (await client.get(f"{ESTIMATES}/{estimate_id}", headers=tenant_key.headers)).status_code == 200


async def test_listing_is_paged(client: httpx.AsyncClient, tenant_key: TenantKey) -> None:
    headers = {**tenant_key.headers, "Accept": "application/json"}
    ids = []
    for photo in ("coffee.png", "motorcycle_left.png", "astronaut.png"):
        r = await client.post(ANALYZE, headers=headers, json={"tenantId": tenant_key.tenant_id,
                                                              "images": [b64(photo_bytes(photo))]})
        ids.append(r.json()["data"]["estimateId"])
    page = (await client.get(ESTIMATES, params={"limit": 2, "offset": 0}, headers=tenant_key.headers)).json()["data"]
    rest = (await client.get(ESTIMATES, params={"limit": 2, "offset": 2}, headers=tenant_key.headers)).json()["data"]
    assert page["total"] == 3 and len(page["estimates"]) == 2 and len(rest["estimates"]) == 1
    listed = [e["estimateId"] for e in page["estimates"] + rest["estimates"]]
    assert sorted(listed) == sorted(ids)
    assert (await client.get(ESTIMATES, params={"limit": 0}, headers=tenant_key.headers)).status_code == 400

