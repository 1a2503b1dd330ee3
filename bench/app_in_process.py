"""The real app in this process, on an embedded PostgreSQL in a temporary folder, with one registered
tenant and rate limits out of the way: shared by the benchmarks that time a request without a
socket in between (`bench/api_process.py` is the same app behind real HTTP)."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from litestar import Litestar
from sqlalchemy.ext.asyncio import async_sessionmaker

from api.app import create_app
from core.db.embedded import ensure_database, start_embedded_server
from core.db.engine import make_async_engine
from core.db.migrate import upgrade
from core.settings import Settings, override_settings


@dataclass(frozen=True)
class InProcessApp:
    """The running app, a client that calls it in process, and the registered tenant's headers."""

    app: Litestar
    http: httpx.AsyncClient
    headers: dict[str, str]
    sessions: async_sessionmaker
    #: the embedded server's URL (another database beside the app's can be made on it)
    server_url: str
    folder: Path


@asynccontextmanager
async def app_in_process(prefix: str) -> AsyncIterator[InProcessApp]:
    """Start the app (its startup hooks run) and register a tenant; on exit, the client is closed,
    the shutdown hooks run and the engine is disposed."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    server = start_embedded_server(folder / "pg")
    url = ensure_database(server, "kariz_bench")
    upgrade(url)
    settings = Settings(
        env="test",
        data_dir=folder / "data",
        database_url=url,
        jwt_secret="bench-jwt-secret-at-least-32-bytes-long",
        connector_encryption_key="pgyQWUDq1bxcIT3XzM5eOeFf3gqRWmtk0fzC4jHKu0M=",
        default_per_minute_limit=10**9,
        default_daily_limit=10**9,
        default_monthly_requests=10**9,
    )
    override_settings(settings)
    engine = make_async_engine(url, pool_size=5)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    app = create_app(settings, session_factory=sessions)
    for hook in app.on_startup:
        await hook(app)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as http:
            name = f"bench-{uuid.uuid4().hex[:6]}"
            reg = await http.post("/api/v1/register", json={"name": name, "email": f"{name}@example.com"})
            headers = {"Authorization": f"Bearer {reg.json()['data']['apiKey']}"}
            yield InProcessApp(app, http, headers, sessions, server, folder)
    finally:
        for hook in app.on_shutdown:
            await hook(app)
        await engine.dispose()
