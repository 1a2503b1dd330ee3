"""The real API served over HTTP by uvicorn in a thread, on the session's real PostgreSQL, for the SDK."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import uvicorn

import kariz
from api.app import create_app
from core.settings import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def api_url(app_settings: Settings, database_url: str) -> Iterator[str]:
    """Base URL of the Kariz API running in this process (committing for real)."""
    port = free_port()
    app = create_app(app_settings, database_url=database_url)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="kariz-api", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the API did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def registered(api_url: str) -> kariz.models.Registration:
    """A new tenant signed up through the SDK (its registration holds the tenant id and API key)."""
    with kariz.Client(api_url) as anonymous:
        name = f"sdk-{uuid.uuid4().hex[:10]}"
        return anonymous.register(name, f"{name}@example.com")


@pytest.fixture(autouse=True)
def _dagster_runs_use_test_settings(app_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Dagster runs write export files where the API under test reads them."""
    import orchestration.resources

    monkeypatch.setattr(orchestration.resources, "get_settings", lambda: app_settings)
