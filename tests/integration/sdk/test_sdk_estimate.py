"""`client.estimate(...)` against the real API over HTTP: events arrive in order, the estimate is
stored and readable, a refused request raises before any event."""

from __future__ import annotations

import pytest

import kariz
from kariz.sdk.errors import APIError
from tests.estimator_photos import DATA, photo_bytes


def test_estimate_yields_the_stream_and_the_estimate_is_stored(api_url: str, registered) -> None:
    with kariz.Client(api_url, registered.api_key) as client:
        events = list(client.estimate([DATA / "coffee.png", photo_bytes("motorcycle_left.png", "JPEG")],
                                      notes="garage"))
        assert [e.event for e in events] == ["start", "image", "image", "item", "item", "summary", "done"]
        assert [e.id for e in events] == list(range(1, 8))
        estimate_id = events[0].data["estimateId"]
        stored = client.get_estimate(estimate_id)
        assert stored["notes"] == "garage" and [i["label"] for i in stored["items"]] == ["cup", "motorcycle"]
        assert stored["summary"] == events[-2].data
        assert client.list_estimates()["total"] == 1


def test_a_refused_estimate_raises_before_any_event(api_url: str, registered) -> None:
    with kariz.Client(api_url, registered.api_key) as client, pytest.raises(APIError) as caught:
        list(client.estimate([b"GIF89a not really"]))
    assert caught.value.status == 415 and caught.value.code == "UNSUPPORTED_MEDIA_TYPE"


async def test_async_client_estimate(api_url: str, registered) -> None:
    async with kariz.AsyncClient(api_url, registered.api_key) as client:
        names = [e.event async for e in client.estimate([photo_bytes("coffee.png", "WEBP")])]
    assert names == ["start", "image", "item", "summary", "done"]
