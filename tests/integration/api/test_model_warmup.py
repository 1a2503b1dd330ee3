"""A served API loads the query embedding model while it starts, before it answers, so the first
semantic or hybrid search of a process does not wait for the model."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from api.app import create_app
from core.search import hybrid
from core.settings import Settings


async def test_start_up_loads_the_query_model_before_serving(app_settings: Settings, database_url: str) -> None:
    hybrid._QUERY_VECTORS.clear()
    cold = app_settings.model_copy(update={"warm_models": False})
    async with AsyncTestClient(app=create_app(cold, database_url=database_url)) as client:
        assert (await client.get("/api/v1/health")).status_code == 200
        assert not hybrid._QUERY_VECTORS  # nothing embedded: the first semantic search would load it
    async with AsyncTestClient(app=create_app(app_settings, database_url=database_url)) as client:
        # start-up ran the model once; the warm-up's vector is the model's real 384-dim output
        (vector,) = hybrid._QUERY_VECTORS.values()
        assert vector.shape == (384,)
        assert (await client.get("/api/v1/health")).status_code == 200
