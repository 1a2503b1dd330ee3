"""A served API opens, while it starts, the connections its first search would otherwise open: a
pooled read connection, and the vector store's connection with the `vector` type registered."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from api.app import create_app
from core.settings import Settings, override_settings
from core.vectors.factory import get_vector_index


async def test_start_up_opens_the_read_pool_and_the_vector_store(app_settings: Settings, database_url: str) -> None:
    settings = app_settings.model_copy(update={"vector_backend": "pgvector"})
    override_settings(settings)
    index = get_vector_index(settings)
    cold = settings.model_copy(update={"warm_models": False})
    index.engine.dispose()
    async with AsyncTestClient(app=create_app(cold, database_url=database_url)) as client:
        assert client.app.state.read_engine.pool.checkedin() == 0
        assert index.engine.pool.checkedin() == 0  # nothing opened: the first request would
    async with AsyncTestClient(app=create_app(settings, database_url=database_url)) as client:
        assert client.app.state.read_engine.pool.checkedin() == 1
        assert index.engine.pool.checkedin() == 1
        with index.engine.connect() as conn:  # the pooled connection, its vector type registered
            assert conn.info.get("kariz_vector_registered") is True
        assert (await client.get("/api/v1/health")).status_code == 200
