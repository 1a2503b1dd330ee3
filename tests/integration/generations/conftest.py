"""Fixtures for the generation tests: both vector backends, and the live API on each."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
import pytest_asyncio
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.orm import Session

from api.app import create_app
from core.settings import Settings, override_settings
from core.vectors.base import VectorIndex
from core.vectors.factory import get_vector_index
from tests.integration.conftest import TenantKey, register_tenant, serve_in_loop


@dataclass(frozen=True)
class Backend:
    name: str
    settings: Settings
    index: VectorIndex


@pytest.fixture(params=["pgvector", "qdrant"])
def backend(request: pytest.FixtureRequest, app_settings: Settings) -> Iterator[Backend]:
    """Settings and the process-wide vector index for pgvector (in the test database) or Qdrant
    local mode (`:memory:`); `get_settings()` answers these settings for the test."""
    if request.param == "qdrant":
        settings = app_settings.model_copy(update={"vector_backend": "qdrant", "qdrant_url": ":memory:"})
    else:
        settings = app_settings.model_copy(update={"vector_backend": "pgvector"})
    override_settings(settings)
    yield Backend(request.param, settings, get_vector_index(settings))
    override_settings(app_settings)


@pytest.fixture
def session(sync_engine: sa.Engine) -> Iterator[Session]:
    """A committing session on the test database (the API under test runs on committed data)."""
    with Session(sync_engine, expire_on_commit=False) as s:
        yield s


@pytest_asyncio.fixture
async def portal(async_engine: AsyncEngine, backend: Backend) -> AsyncIterator[httpx.AsyncClient]:
    """The live API (committing) configured for `backend`."""
    factory = async_sessionmaker(async_engine, expire_on_commit=False)
    app = create_app(backend.settings, session_factory=factory)
    async with serve_in_loop(app) as client:
        yield client


@pytest_asyncio.fixture
async def owner(portal: httpx.AsyncClient) -> TenantKey:
    return await register_tenant(portal, "bg")


@pytest_asyncio.fixture
async def stranger(portal: httpx.AsyncClient) -> TenantKey:
    return await register_tenant(portal, "bg-other")


def vertical_name() -> str:
    return f"v{uuid.uuid4().hex[:8]}"
