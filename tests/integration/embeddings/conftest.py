"""Fixtures for the embedding pipeline tests: both vector backends, a committing session, the model."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.embeddings.factory import get_embedding_provider
from core.embeddings.local_minilm import LocalMiniLMProvider
from core.settings import Settings, override_settings
from core.vectors.factory import get_vector_index
from tests.integration.embeddings.harness import Backend, EmbeddingServer, serve_embeddings


@pytest.fixture(params=["pgvector", "qdrant"])
def backend(
    request: pytest.FixtureRequest, app_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Backend:
    """pgvector in the test database, or Qdrant local mode (`:memory:`, fresh per test);
    `get_settings()` answers these settings for the test."""
    if request.param == "qdrant":
        settings = app_settings.model_copy(update={"vector_backend": "qdrant", "qdrant_url": ":memory:"})
        from core.vectors.qdrant import QdrantIndex

        index = QdrantIndex(":memory:")
        request.addfinalizer(index.close)
        import core.vectors.factory

        # one fresh store per test, and the process-wide index (searches, Dagster runs) is this one
        monkeypatch.setitem(core.vectors.factory._INDEXES, ("qdrant", ":memory:"), index)
    else:
        settings = app_settings.model_copy(update={"vector_backend": "pgvector"})
        index = get_vector_index(settings)
    override_settings(settings)
    request.addfinalizer(lambda: override_settings(app_settings))
    return Backend(request.param, settings, index)


@pytest.fixture
def session(sync_engine: sa.Engine) -> Iterator[Session]:
    """A committing session (pipeline runs use their own connections)."""
    with Session(sync_engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture(scope="session")
def model(app_settings: Settings) -> LocalMiniLMProvider:
    provider = get_embedding_provider(app_settings)
    assert isinstance(provider, LocalMiniLMProvider)
    return provider


@pytest.fixture
def embedding_server(model: LocalMiniLMProvider) -> Iterator[EmbeddingServer]:
    yield from serve_embeddings(model)
