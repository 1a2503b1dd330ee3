"""The `openai` vision provider's real HTTP client against real loopback servers.

No vision model can run on this machine: none ships in a registry package that installs offline
(checked on 2026-12-02 in the PyPI and npm package lists: no GGUF vision model with its `mmproj`
projector; `globalmm` builds a projector but needs SigLIP weights from a model hub). So:

- the real OpenAI-compatible server is llama.cpp's `llama-server` (`make test`, tests/llm_peer.py)
  serving the text-only SmolLM2-135M. It receives the provider's own request with the provider's own
  JSON schema as `response_format` and constrains its answer by it; because the model cannot see, the
  photo part is replaced by a sentence dictating the answer. What this proves: a real server accepts
  our schema, and the provider reads what a real server sends back. It also answers the photo itself
  with its real refusal (no projector), and a real answer cut short by `max_tokens`;
- timeouts and an absent server are real sockets on loopback;
- the full photo-to-boxes flow with a model that can see is tested only against a scripted answer
  (tests/integration/estimator/test_stream_live.py), said so there.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import httpx
import pytest
from PIL import Image

from api.app import create_app
from core.errors import Unavailable
from core.estimator.vision import VISION_SCHEMA, OpenAIVisionProvider
from core.settings import Settings
from tests.estimator_photos import DATA, b64, photo_bytes
from tests.integration.conftest import register_tenant
from tests.llm_peer import MODEL_NAME, llama_server
from tests.loopback import free_port, serve_on_loopback

DICTATED = ('Repeat exactly this JSON and nothing else: {"items": [{"label": "cup", "confidence": 0.9, '
            '"box": [0.2, 0.1, 0.7, 0.9]}]}')


@pytest.fixture(scope="module")
def peer() -> Iterator[str]:
    with llama_server(context=2048) as base:
        yield base


@pytest.fixture
def coffee() -> Image.Image:
    return Image.open(DATA / "coffee.png").convert("RGB")


def _without_the_photo(body: dict) -> dict:
    """The provider's request with its photo part replaced by the dictated answer (the model is blind)."""
    content = body["messages"][0]["content"]
    assert [p["type"] for p in content] == ["text", "image_url"]
    body["messages"][0]["content"] = [{"type": "text", "text": DICTATED}]
    return body


def test_a_real_server_answers_under_our_schema_and_the_provider_reads_it(peer: str, coffee: Image.Image) -> None:
    provider = OpenAIVisionProvider(peer, MODEL_NAME, "unused-key", max_tokens=120)
    try:
        body = _without_the_photo(provider.request_body(coffee))
        assert body["response_format"] == {"type": "json_schema", "json_schema": VISION_SCHEMA}
        found = provider.complete(body, coffee.size)
    finally:
        provider.close()
    assert [(d.label, d.confidence) for d in found] == [("cup", 0.9)]
    assert found[0].box == pytest.approx((0.2 * 600, 0.1 * 400, 0.7 * 600, 0.9 * 400))


def test_a_photo_the_server_cannot_see_is_unavailable_with_its_status(peer: str, coffee: Image.Image) -> None:
    provider = OpenAIVisionProvider(peer, MODEL_NAME)
    try:
        with pytest.raises(Unavailable, match="answered 500"):  # llama-server: "image input is not supported"
            provider.detect(coffee)
    finally:
        provider.close()


def test_an_answer_cut_short_is_off_schema(peer: str, coffee: Image.Image) -> None:
    provider = OpenAIVisionProvider(peer, MODEL_NAME, max_tokens=8)  # the server stops mid-JSON
    try:
        with pytest.raises(Unavailable, match="did not follow the JSON schema"):
            provider.complete(_without_the_photo(provider.request_body(coffee)), coffee.size)
    finally:
        provider.close()


def test_a_silent_server_times_out_and_an_absent_one_cannot_be_reached(coffee: Image.Image) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept_and_say_nothing() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept_and_say_nothing, daemon=True)
    thread.start()
    silent = OpenAIVisionProvider(f"http://127.0.0.1:{listener.getsockname()[1]}/v1", "m", timeout=0.5)
    absent = OpenAIVisionProvider(f"http://127.0.0.1:{free_port()}/v1", "m", timeout=0.5)
    try:
        with pytest.raises(Unavailable, match=r"cannot be reached \(ReadTimeout\)"):
            silent.detect(coffee)
        with pytest.raises(Unavailable, match=r"cannot be reached \(ConnectError\)"):
            absent.detect(coffee)
    finally:
        silent.close()
        absent.close()
        stop.set()
        thread.join(timeout=5)
        for conn in accepted:
            conn.close()
        listener.close()
    assert accepted, "the provider never connected to the silent server"


async def test_the_api_with_the_openai_provider_reports_the_servers_refusal_and_stores_nothing(
        peer: str, app_settings: Settings, database_url: str) -> None:
    settings = app_settings.model_copy(update={"vision_provider": "openai", "vision_url": peer,
                                               "vision_model": MODEL_NAME})
    app = create_app(settings, database_url=database_url)
    async with serve_on_loopback(app) as base, httpx.AsyncClient(base_url=base, timeout=60) as http:
        key = await register_tenant(http, "vision-peer")
        answer = await http.post("/api/v1/estimator/analyze", headers={**key.headers, "Accept": "application/json"},
                                 json={"tenantId": key.tenant_id, "images": [b64(photo_bytes("coffee.png"))]})
        listed = (await http.get("/api/v1/estimator/estimates", headers=key.headers)).json()["data"]
    assert answer.status_code == 503
    assert answer.json()["error"]["message"] == "the vision model answered 500"
    assert listed["total"] == 0
