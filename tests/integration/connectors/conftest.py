"""Real source peers for the connector tests.

- PostgreSQL: a fresh database on the session's server (`pg_server_url`: embedded or TEST_DATABASE_URL).
- MariaDB: 127.0.0.1:3306 (root, empty password), started with start-stop-daemon when installed but
  stopped. With CI=true a missing server FAILS the suite instead of skipping it.
- MongoDB wire protocol: SecantusDB (`secantusd-py`, dev extra) started on a free port in a temp dir.
Neo4j sessions are scripted with boltkit (see bolt_stub.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.db.embedded import ensure_database
from core.db.urls import libpq_url
from tests.integration.connectors.peers import (
    MySQLSource,
    SecantusServer,
    allow_peer_server,
    ensure_mariadb,
    mysql_execute,
)


@pytest.fixture(scope="session")
def pg_source_url(pg_server_url: str) -> str:
    """A libpq URL of an empty database that plays a tenant's PostgreSQL (its server allow-listed)."""
    allow_peer_server(pg_server_url)
    return libpq_url(ensure_database(pg_server_url, f"kariz_pgsrc_{uuid.uuid4().hex[:8]}"))


@pytest.fixture(scope="session")
def mysql_source() -> Iterator[MySQLSource]:
    """A fresh MariaDB database plus a password-protected, SELECT-only reader account."""
    ensure_mariadb()
    suffix = uuid.uuid4().hex[:8]
    source = MySQLSource(f"kariz_mysrc_{suffix}", f"kariz_reader_{suffix}", f"pw-{uuid.uuid4().hex}")
    mysql_execute(
        None,
        f"CREATE DATABASE {source.database}",
        f"CREATE USER '{source.reader}'@'%' IDENTIFIED BY '{source.reader_password}'",
        f"GRANT SELECT ON {source.database}.* TO '{source.reader}'@'%'",
    )
    try:
        yield source
    finally:
        mysql_execute(
            None, f"DROP DATABASE IF EXISTS {source.database}", f"DROP USER IF EXISTS '{source.reader}'@'%'"
        )


@pytest.fixture(scope="session")
def mongo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecantusServer]:
    server = SecantusServer(tmp_path_factory.mktemp("secantus"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def doomed_mongo_server(tmp_path: Path) -> Iterator[SecantusServer]:
    """A server of its own, for a test that kills it."""
    server = SecantusServer(tmp_path / "secantus")
    try:
        yield server
    finally:
        server.stop()
