"""The OpenAI-compatible provider against a real HTTP server on loopback.

The server stands in for a remote `/v1/embeddings` endpoint: it speaks the protocol (bearer auth,
`input` list, `data[].index`) and computes vectors with the local MiniLM model.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from core.embeddings.factory import make_embedding_provider
from core.embeddings.local_minilm import LocalMiniLMProvider
from core.embeddings.openai_http import OpenAICompatibleProvider, embeddings_endpoint
from core.errors import InvalidInput, Unavailable
from core.settings import Settings

API_KEY = "test-secret"


class EmbeddingServer(ThreadingHTTPServer):
    model: LocalMiniLMProvider
    requests: list[dict]
    fail_next: int = 0


class Handler(BaseHTTPRequestHandler):
    server: EmbeddingServer

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(body)
        if self.path != "/v1/embeddings":
            return self._send(404, {"error": {"message": "no such route"}})
        if self.headers.get("Authorization") != f"Bearer {API_KEY}":
            return self._send(401, {"error": {"message": "Incorrect API key provided"}})
        if self.server.fail_next:
            self.server.fail_next -= 1
            return self._send(503, {"error": {"message": "overloaded"}})
        if any("\x00" in text for text in body["input"]):
            return self._send(400, {"error": {"message": "input contains a NUL character"}})
        vectors = self.server.model.embed(body["input"])
        # answer out of order, as the protocol allows: clients must use `index`
        data = [{"object": "embedding", "index": i, "embedding": v.tolist()} for i, v in enumerate(vectors)]
        self._send(200, {"object": "list", "model": body["model"], "data": data[::-1], "usage": {}})


@pytest.fixture(scope="module")
def model() -> LocalMiniLMProvider:
    return LocalMiniLMProvider()


@pytest.fixture
def server(model: LocalMiniLMProvider) -> Iterator[EmbeddingServer]:
    httpd = EmbeddingServer(("127.0.0.1", 0), Handler)
    httpd.model, httpd.requests = model, []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def base_url(server: EmbeddingServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/v1"


def test_remote_vectors_match_the_model_in_order_and_batches(
    server: EmbeddingServer, model: LocalMiniLMProvider
) -> None:
    provider = OpenAICompatibleProvider(base_url(server), "all-MiniLM-L6-v2", api_key=API_KEY, batch_size=2)
    texts = ["hydraulic pump", "", "Насос", "stainless bolt M8", "日本語"]
    vectors = provider.embed(texts)
    assert vectors.shape == (5, 384) and vectors.dtype == np.float32
    assert np.allclose(vectors, model.embed(texts), atol=1e-5)
    assert [len(r["input"]) for r in server.requests] == [2, 2, 1]
    assert all(r["model"] == "all-MiniLM-L6-v2" for r in server.requests)
    assert provider.embed([]).shape == (0, 384)
    assert len(server.requests) == 3  # no call for nothing


def test_settings_choose_the_remote_provider(server: EmbeddingServer, tmp_path) -> None:
    settings = Settings(
        embedding_provider="openai",
        embedding_url=base_url(server),
        embedding_api_key=API_KEY,
        data_dir=tmp_path,
    )
    provider = make_embedding_provider(settings)
    assert isinstance(provider, OpenAICompatibleProvider)
    assert provider.embed_one("pump").shape == (384,)


def test_transient_failures_are_unavailable_and_bad_input_is_invalid(server: EmbeddingServer) -> None:
    provider = OpenAICompatibleProvider(base_url(server), "m", api_key=API_KEY)
    server.fail_next = 1
    with pytest.raises(Unavailable, match="overloaded"):
        provider.embed(["x"])
    assert provider.embed(["x"]).shape == (1, 384)  # the retry succeeds
    with pytest.raises(InvalidInput, match="NUL"):
        provider.embed(["bad\x00text"])
    with pytest.raises(Unavailable, match="Incorrect API key"):
        OpenAICompatibleProvider(base_url(server), "m", api_key="wrong").embed(["x"])


def test_an_unreachable_endpoint_is_unavailable(server: EmbeddingServer) -> None:
    url = base_url(server)
    server.shutdown()
    server.server_close()
    with pytest.raises(Unavailable):
        OpenAICompatibleProvider(url, "m", api_key=API_KEY, timeout_s=2).embed(["x"])


def test_endpoint_urls() -> None:
    assert embeddings_endpoint("http://h:1/v1") == "http://h:1/v1/embeddings"
    assert embeddings_endpoint("http://h:1/") == "http://h:1/v1/embeddings"
    assert embeddings_endpoint("http://h:1/v1/embeddings") == "http://h:1/v1/embeddings"
