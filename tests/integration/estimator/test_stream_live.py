"""The estimate stream over a real HTTP server: an image's event leaves as soon as that image is
analysed, a provider failure after the stream opened is an `error` then `done` (nothing stored),
and the OpenAI-compatible provider against a scripted OpenAI-style server."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import httpx
import pytest
from litestar import Litestar, Request, post
from PIL import Image

import api.estimator.controllers as controllers
from api.app import create_app
from core.errors import Unavailable
from core.estimator.vision import Detection, NanoDetProvider, OpenAIVisionProvider, VisionProvider
from core.settings import Settings
from core.streams.sse import parse_block
from tests.estimator_photos import DATA, b64, photo_bytes
from tests.integration.conftest import register_tenant
from tests.loopback import serve_on_loopback


class GatedProvider(VisionProvider):
    """The real detector, but image 1 waits until the client has received image 0's event."""

    name = "nanodet"

    def __init__(self, inner: NanoDetProvider) -> None:
        self.inner = inner
        self.calls = 0
        self.client_saw_first = threading.Event()

    def detect(self, image: Image.Image) -> list[Detection]:
        self.calls += 1
        if self.calls == 2:
            assert self.client_saw_first.wait(timeout=30), "the first image event was not delivered while analysing"
        return self.inner.detect(image)


class FailingProvider(VisionProvider):
    name = "nanodet"

    def __init__(self, inner: NanoDetProvider) -> None:
        self.inner, self.calls = inner, 0

    def detect(self, image: Image.Image) -> list[Detection]:
        self.calls += 1
        if self.calls == 2:
            raise Unavailable("the vision model cannot be reached (ConnectError)")
        return self.inner.detect(image)


async def _stream(base: str, key: Any, images: list[str], on_event=None) -> list[tuple[int | None, str, Any]]:
    seen = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as http, http.stream(
            "POST", "/api/v1/estimator/analyze", json={"tenantId": key.tenant_id, "images": images},
            headers=key.headers) as response:
        assert response.status_code == 200
        block = ""
        async for line in response.aiter_lines():
            if line:
                block += line + "\n"
                continue
            parsed = parse_block(block)
            block = ""
            if parsed:
                seen.append(parsed)
                if on_event:
                    on_event(parsed)
    return seen


async def test_each_image_event_leaves_before_the_next_image_is_analysed(
        app_settings: Settings, database_url: str, detector: NanoDetProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    gated = GatedProvider(detector)
    monkeypatch.setattr(controllers, "get_vision_provider", lambda settings: gated)
    app = create_app(app_settings, database_url=database_url)
    async with serve_on_loopback(app) as base, httpx.AsyncClient(base_url=base) as http:
        key = await register_tenant(http, "live")

        def on_event(parsed: tuple[int | None, str, Any]) -> None:
            if parsed[1] == "image" and parsed[2]["index"] == 0:
                gated.client_saw_first.set()

        events = await _stream(base, key, [b64(photo_bytes("coffee.png"))] * 3, on_event)
    assert [n for _, n, _ in events] == ["start", "image", "image", "image", "item", "summary", "done"]


async def test_a_failure_after_the_stream_opened_is_an_error_event_and_nothing_is_stored(
        app_settings: Settings, database_url: str, detector: NanoDetProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(controllers, "get_vision_provider", lambda settings: FailingProvider(detector))
    app = create_app(app_settings, database_url=database_url)
    async with serve_on_loopback(app) as base, httpx.AsyncClient(base_url=base) as http:
        key = await register_tenant(http, "fail")
        events = await _stream(base, key, [b64(photo_bytes("coffee.png"))] * 3)
        listed = (await http.get("/api/v1/estimator/estimates", headers=key.headers)).json()["data"]
    assert [n for _, n, _ in events] == ["start", "image", "error", "done"]
    assert events[2][2] == {"code": "SERVICE_UNAVAILABLE", "message": "the vision model cannot be reached (ConnectError)"}
    assert listed["total"] == 0


async def test_openai_provider_sends_the_image_and_schema_and_reads_the_answer() -> None:
    """Against a local server speaking the OpenAI chat-completions protocol with a scripted answer
    (no vision model installs offline here; the real-server tests are in test_vision_peer.py),
    answering as a model that can see would: the photo's part, the key and the parsing."""
    received: list[dict[str, Any]] = []

    @post("/v1/chat/completions", status_code=200)
    async def completions(request: Request) -> dict[str, Any]:
        body = await request.json()
        received.append(body)
        assert request.headers["authorization"] == "Bearer test-key"
        answer = {"items": [
            {"label": "cup", "confidence": 0.91, "box": [0.19, 0.02, 0.68, 0.95]},
            {"label": "dining table", "confidence": 0.55, "box": [0.0, 0.6, 1.0, 1.0]},
            {"label": "spaceship", "confidence": 0.99, "box": [0, 0, 1, 1]},  # not an allowed label: dropped
            {"label": "bowl", "confidence": 0.1, "box": [0.1, 0.1, 0.2, 0.2]},  # below the threshold
        ]}
        return {"id": "chatcmpl-1", "object": "chat.completion", "model": body["model"],
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": json.dumps(answer)}}]}

    async with serve_on_loopback(Litestar([completions])) as base:
        provider = OpenAIVisionProvider(f"{base}/v1", "vision-test", "test-key")
        image = Image.open(DATA / "coffee.png").convert("RGB")
        found = await asyncio.to_thread(provider.detect, image)
        provider.close()
        broken = OpenAIVisionProvider(f"{base}/v1/missing", "vision-test")
        with pytest.raises(Unavailable):
            await asyncio.to_thread(broken.detect, image)
        broken.close()
    assert [(d.label, d.confidence) for d in found] == [("cup", 0.91), ("dining table", 0.55)]
    assert found[0].box == pytest.approx((0.19 * 600, 0.02 * 400, 0.68 * 600, 0.95 * 400))
    body = received[0]
    assert body["model"] == "vision-test" and body["response_format"]["type"] == "json_schema"
    parts = body["messages"][0]["content"]
    assert parts[1]["image_url"]["url"].startswith("data:image/jpeg;base64,")


class CountingProvider(VisionProvider):
    name = "nanodet"

    def __init__(self, inner: NanoDetProvider) -> None:
        self.inner, self.calls = inner, 0

    def detect(self, image: Image.Image) -> list[Detection]:
        self.calls += 1
        return self.inner.detect(image)


async def test_a_client_that_leaves_stops_the_analysis_and_nothing_is_stored(
        app_settings: Settings, database_url: str, detector: NanoDetProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.streams.sse import drain_cancelled_producers

    counting = CountingProvider(detector)
    monkeypatch.setattr(controllers, "get_vision_provider", lambda settings: counting)
    app = create_app(app_settings, database_url=database_url)
    async with serve_on_loopback(app) as base, httpx.AsyncClient(base_url=base, timeout=60) as http:
        key = await register_tenant(http, "gone")
        async with http.stream("POST", "/api/v1/estimator/analyze", headers=key.headers,
                               json={"tenantId": key.tenant_id, "images": [b64(photo_bytes("coffee.png"))] * 10}) as r:
            async for line in r.aiter_lines():
                if line == "event: image":
                    break  # leave after the first image
        await drain_cancelled_producers()
        await asyncio.sleep(0.5)
        listed = (await http.get("/api/v1/estimator/estimates", headers=key.headers)).json()["data"]
    assert counting.calls < 10
    assert listed["total"] == 0


async def test_a_key_without_write_scope_cannot_analyze(client: httpx.AsyncClient, tenant_key) -> None:
    created = await client.post(f"/api/v1/tenants/{tenant_key.tenant_id}/api-keys", headers=tenant_key.headers,
                                json={"name": "reader", "scopes": ["tenant:read"]})
    assert created.status_code in (200, 201), created.text
    reader = {"Authorization": f"Bearer {created.json()['data']['apiKey']}"}
    refused = await client.post("/api/v1/estimator/analyze", headers=reader,
                                json={"tenantId": tenant_key.tenant_id, "images": [b64(photo_bytes("coffee.png"))]})
    assert refused.status_code == 403
    assert (await client.get("/api/v1/estimator/estimates", headers=reader)).status_code == 200
