"""The OpenAI-compatible provider against a real HTTP server on loopback.

The server stands in for a remote `/v1/embeddings` endpoint: it speaks the protocol (bearer auth,
`input` list, `data[].index`) and computes vectors with the local MiniLM model.
"""

from __future__ import annotations

import numpy as np
import pytest

from core.embeddings.factory import make_embedding_provider
from core.embeddings.local_minilm import LocalMiniLMProvider
from core.embeddings.openai_http import OpenAICompatibleProvider, embeddings_endpoint
from core.errors import InvalidInput, Unavailable
from core.settings import Settings
from tests.integration.embeddings.harness import REFUSED_MARKER, EmbeddingServer

API_KEY = "test-secret"


@pytest.fixture
def server(embedding_server: EmbeddingServer) -> EmbeddingServer:
    """The loopback endpoint, asking for a bearer key as a remote provider would."""
    embedding_server.api_key = API_KEY
    return embedding_server


def test_remote_vectors_match_the_model_in_order_and_batches(
    server: EmbeddingServer, model: LocalMiniLMProvider
) -> None:
    provider = OpenAICompatibleProvider(server.url, "all-MiniLM-L6-v2", api_key=API_KEY, batch_size=2)
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
        embedding_url=server.url,
        embedding_api_key=API_KEY,
        data_dir=tmp_path,
    )
    provider = make_embedding_provider(settings)
    assert isinstance(provider, OpenAICompatibleProvider)
    assert provider.embed_one("pump").shape == (384,)


def test_transient_failures_are_unavailable_and_bad_input_is_invalid(server: EmbeddingServer) -> None:
    provider = OpenAICompatibleProvider(server.url, "m", api_key=API_KEY)
    server.fail_next = 1
    with pytest.raises(Unavailable, match="overloaded"):
        provider.embed(["x"])
    assert provider.embed(["x"]).shape == (1, 384)  # the retry succeeds
    with pytest.raises(InvalidInput, match="content policy"):
        provider.embed([f"bad {REFUSED_MARKER} text"])
    with pytest.raises(Unavailable, match="Incorrect API key"):
        OpenAICompatibleProvider(server.url, "m", api_key="wrong").embed(["x"])


def test_an_unreachable_endpoint_is_unavailable(server: EmbeddingServer) -> None:
    url = server.url
    server.shutdown()
    server.server_close()
    with pytest.raises(Unavailable):
        OpenAICompatibleProvider(url, "m", api_key=API_KEY, timeout_s=2).embed(["x"])


def test_endpoint_urls() -> None:
    assert embeddings_endpoint("http://h:1/v1") == "http://h:1/v1/embeddings"
    assert embeddings_endpoint("http://h:1/") == "http://h:1/v1/embeddings"
    assert embeddings_endpoint("http://h:1/v1/embeddings") == "http://h:1/v1/embeddings"
