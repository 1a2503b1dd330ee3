"""API fixtures: the real Litestar app, in-process, on the real PostgreSQL of this session.

`client` runs each test inside one outer transaction that is rolled back afterwards (the app's own
commits become savepoints), so tests never see each other's rows. `live_client` commits for real,
for tests where another process or a Dagster run must see the data.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from api.app import create_app
from core.db.engine import make_async_engine
from core.security.api_keys import ALL_TENANT_SCOPES, SYSTEM_SCOPE
from core.settings import Settings, override_settings
from tests.conftest import peer_allow_list


@dataclass(frozen=True)
class TenantKey:
    tenant_id: str
    key: str
    name: str = ""  # the tenant's name (Dagster partitions read `<tenant name>/<collection>`)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


@pytest.fixture(scope="session")
def app_settings(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Settings:
    data_dir = Path(tmp_path_factory.mktemp("kariz-data"))
    # plan limits far above what any test sends; the rate-limit tests lower them per tenant
    return Settings(env="test", data_dir=data_dir, database_url=database_url, jwt_secret="test-jwt-secret-at-least-32-bytes-long",
                    connector_encryption_key="pgyQWUDq1bxcIT3XzM5eOeFf3gqRWmtk0fzC4jHKu0M=",
                    connector_allowed_networks=",".join(peer_allow_list(database_url)),
                    default_per_minute_limit=1_000_000, default_daily_limit=10_000_000,
                    register_per_hour_limit=1_000_000)


@pytest.fixture(autouse=True)
def _use_test_settings(app_settings: Settings) -> Iterator[None]:
    """Code that asks `get_settings()` gets the test settings, however it imported it."""
    override_settings(app_settings)
    yield
    override_settings(None)


@pytest_asyncio.fixture(scope="session")
async def async_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_async_engine(database_url, pool_size=5)
    yield engine
    await engine.dispose()


@asynccontextmanager
async def serve_in_loop(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the app in this event loop, with the app's start-up and shut-down hooks run.

    Litestar's own test client runs the app in another event loop, where the test's database
    connection cannot follow; its lifespan opens an anyio task group that cannot span the fixture's
    set-up and tear-down tasks, so the hooks are called directly."""
    for hook in app.on_startup:
        await hook(app)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http:
            http.app = app  # tests reach the app's state (e.g. its session factory) through the client
            yield http
    finally:
        for hook in app.on_shutdown:
            await hook(app)


@pytest_asyncio.fixture
async def client(async_engine: AsyncEngine, app_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The API inside a transaction that is rolled back after the test."""
    async with async_engine.connect() as conn:
        outer = await conn.begin()
        factory = async_sessionmaker(bind=conn, expire_on_commit=False, join_transaction_mode="create_savepoint")
        app = create_app(app_settings, session_factory=factory)
        async with serve_in_loop(app) as test_client:
            yield test_client
        await outer.rollback()


@pytest_asyncio.fixture
async def live_client(async_engine: AsyncEngine, app_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The API committing for real (for tests that cross processes or Dagster runs)."""
    factory = async_sessionmaker(async_engine, expire_on_commit=False)
    app = create_app(app_settings, session_factory=factory)
    async with serve_in_loop(app) as test_client:
        yield test_client


async def register_tenant(client: httpx.AsyncClient, prefix: str = "t") -> TenantKey:
    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    response = await client.post("/api/v1/register", json={"name": name, "email": f"{name}@example.com"})
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    return TenantKey(tenant_id=data["tenantId"], key=data["apiKey"], name=name)


@pytest_asyncio.fixture
async def tenant_key(client: httpx.AsyncClient) -> TenantKey:
    """A fresh tenant with every tenant scope (admin included)."""
    return await register_tenant(client, "acme")


@pytest_asyncio.fixture
async def other_tenant_key(client: httpx.AsyncClient) -> TenantKey:
    """A second, unrelated tenant: its ids must never reach the first."""
    return await register_tenant(client, "other")


def create_system_key(session, name: str = "operator") -> TenantKey:
    """An operator key (system:admin) in a new tenant, created the way `kariz key create` does."""
    from core.tenants import service

    tenant = service.create_tenant(session, f"{name}-{uuid.uuid4().hex[:8]}")
    issued = service.create_api_key(session, tenant.id, "ops", [*ALL_TENANT_SCOPES, SYSTEM_SCOPE])
    return TenantKey(str(tenant.id), issued.raw)


@pytest_asyncio.fixture
async def system_key(client: httpx.AsyncClient) -> TenantKey:
    """An operator key inside the test's transaction."""
    async with client.app.state.session_factory() as session:
        key = await session.run_sync(create_system_key)
        await session.commit()
    return key
