"""A tenant's connector must not reach Kariz's own database or any internal address (SSRF).

Through the real API: registrations naming the embedded server's Unix socket, loopback, link-local,
metadata or a name that resolves to loopback are refused with 422 `SOURCE_TARGET_FORBIDDEN`; a name
that resolves to a public address at registration and to loopback at pull time (DNS rebinding) is
refused when the pull connects; an allow-listed peer still pulls, through the address that was
checked. Name resolution is the real `socket.getaddrinfo`, with a few `.test` names answered by the
test (no DNS server can be run here for them).
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import pytest_asyncio

from api.app import create_app
from core.settings import Settings, override_settings
from tests.integration.conftest import TenantKey, register_tenant, serve_in_loop
from tests.integration.connectors.conftest import mysql_source, pg_source_url  # noqa: F401
from tests.integration.connectors.peers import MySQLSource
from tests.integration.pulls.conftest import DagsterRunner, dagster_runner, products_table  # noqa: F401
from tests.integration.pulls.flows import pull_via_dagster, register

pytestmark = pytest.mark.integration


class FakeNames:
    """`socket.getaddrinfo` answering some names from a script (each call takes the next answer)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.answers: dict[str, list[str]] = {}
        self.calls: dict[str, int] = {}
        real = socket.getaddrinfo

        def getaddrinfo(host, port, *args, **kwargs):  # noqa: ANN001, ANN202 (socket's signature)
            name = host.decode() if isinstance(host, bytes) else host
            if name in self.answers:
                self.calls[name] = self.calls.get(name, 0) + 1
                queue = self.answers[name]
                address = queue.pop(0) if len(queue) > 1 else queue[0]
                family = socket.AF_INET6 if ":" in address else socket.AF_INET
                return [(family, socket.SOCK_STREAM, 6, "", (address, int(port or 0)))]
            return real(host, port, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def names(monkeypatch: pytest.MonkeyPatch) -> FakeNames:
    return FakeNames(monkeypatch)


@pytest.fixture
def strict_settings(app_settings: Settings) -> Iterator[Settings]:
    """The test settings with no allow-list: what `kariz up` runs with by default."""
    strict = app_settings.model_copy(update={"connector_allowed_networks": ""})
    override_settings(strict)
    yield strict
    override_settings(app_settings)


@pytest_asyncio.fixture
async def strict_client(client: httpx.AsyncClient, strict_settings: Settings) -> Iterator[httpx.AsyncClient]:
    app = create_app(strict_settings, session_factory=client.app.state.session_factory)
    async with serve_in_loop(app) as test_client:
        yield test_client


def _body(dsn: str) -> dict[str, object]:
    return {
        "name": "attack",
        "connector_type": "postgresql",
        "vertical": "loot",
        "entity_type": "row",
        "connection_config": {"dsn": dsn},
        "query": "SELECT key_hash FROM api_keys",
    }


def _own_socket_dsn(database_url: str) -> str:
    """The embedded server's own socket, the way the attacker wrote it."""
    socket_dir = parse_qs(urlsplit(database_url).query)["host"][0]
    return f"postgresql://postgres@/{urlsplit(database_url).path.lstrip('/')}?host={socket_dir}"


async def _refused(client: httpx.AsyncClient, owner: TenantKey, body: dict[str, object]) -> dict:
    response = await client.post("/api/v1/connectors", json=body, headers=owner.headers)
    assert response.status_code == 422, response.text
    payload = response.json()
    assert payload["success"] is False and payload["detail"]
    assert payload["error"]["code"] == "SOURCE_TARGET_FORBIDDEN"
    return payload


ATTACKS = [
    "postgresql://postgres@127.0.0.1:5432/kariz",
    "postgresql://postgres@[::1]:5432/kariz",
    "postgresql://postgres@[::ffff:127.0.0.1]:5432/kariz",
    "postgresql://postgres@169.254.169.254/kariz",
    "postgresql://postgres@[fd00:ec2::254]/kariz",
    "postgresql://postgres@10.1.2.3/kariz",
    "postgresql://postgres@100.64.0.7/kariz",
    "postgresql://postgres@localhost/kariz",
    "postgresql://postgres@/kariz",  # no host: the local socket
    "postgresql://postgres@%2Frun%2Fpostgresql/kariz",  # a socket spelled in the netloc
    "postgresql://postgres@8.8.8.8/kariz?passfile=/etc/passwd",
]


@pytest.mark.parametrize("dsn", ATTACKS)
async def test_registering_an_internal_target_is_refused(
    strict_client: httpx.AsyncClient, dsn: str
) -> None:
    owner = await register_tenant(strict_client, "ssrf")
    await _refused(strict_client, owner, _body(dsn))
    listed = await strict_client.get("/api/v1/connectors", headers=owner.headers)
    assert listed.json() == []  # nothing was stored


async def test_the_embedded_servers_own_socket_is_refused(
    strict_client: httpx.AsyncClient, database_url: str
) -> None:
    owner = await register_tenant(strict_client, "ssrf")
    payload = await _refused(strict_client, owner, _body(_own_socket_dsn(database_url)))
    assert "unix socket" in payload["error"]["message"]


async def test_other_kinds_are_checked_too(strict_client: httpx.AsyncClient) -> None:
    owner = await register_tenant(strict_client, "ssrf")
    for kind, config, query in [
        ("mysql", {"host": "127.0.0.1", "user": "root", "database": "mysql"}, "SELECT 1"),
        ("mongodb", {"uri": "mongodb://8.8.8.8,127.0.0.1:27017", "database": "d", "collection": "c"}, "{}"),
        ("mongodb", {"uri": "mongodb://%2Ftmp%2Fmongodb-27017.sock", "database": "d", "collection": "c"}, "{}"),
        ("mongodb", {"uri": "mongodb+srv://cluster.example.com", "database": "d", "collection": "c"}, "{}"),
        ("neo4j", {"uri": "neo4j://[::1]:7687", "user": "neo4j", "password": "x"}, "RETURN 1"),
    ]:
        body = {**_body(""), "connector_type": kind, "connection_config": config, "query": query}
        await _refused(strict_client, owner, body)


async def test_the_own_database_needs_an_exact_allow_list_entry(
    client: httpx.AsyncClient, app_settings: Settings, database_url: str
) -> None:
    """Allow-listing the whole socket root does not open Kariz's own database folder."""
    broad = app_settings.model_copy(update={"connector_allowed_networks": "/tmp,127.0.0.0/8"})
    override_settings(broad)
    try:
        app = create_app(broad, session_factory=client.app.state.session_factory)
        async with serve_in_loop(app) as broad_client:
            owner = await register_tenant(broad_client, "ssrf")
            payload = await _refused(broad_client, owner, _body(_own_socket_dsn(database_url)))
            assert "Kariz's own database" in payload["error"]["message"]
    finally:
        override_settings(app_settings)


async def test_dns_rebinding_is_refused_when_the_pull_connects(
    live_client: httpx.AsyncClient,
    dagster_runner: DagsterRunner,  # noqa: F811
    strict_settings: Settings,
    names: FakeNames,
) -> None:
    """Public at registration, loopback at pull time: the connect-time check on the resolved address
    refuses it, and the pull fails with the same code."""
    host = f"rebind-{uuid.uuid4().hex[:6]}.test"
    names.answers[host] = ["93.184.215.14", "127.0.0.1"]
    owner = await register_tenant(live_client, "ssrf")
    created = await register(live_client, owner, **_body(f"postgresql://postgres@{host}:5432/kariz"))
    status, served = await pull_via_dagster(live_client, owner, dagster_runner, created["id"])
    assert status["status"] == "failed" and status["error_code"] == "SOURCE_TARGET_FORBIDDEN"
    assert "127.0.0.1" in status["error"] and names.calls[host] == 2
    assert status["records_pulled"] == 0


async def test_an_allow_listed_socket_peer_still_pulls(
    live_client: httpx.AsyncClient,
    dagster_runner: DagsterRunner,  # noqa: F811
    pg_source_url: str,  # noqa: F811
) -> None:
    """The suite's PostgreSQL on its Unix socket, allow-listed exactly in the test settings."""
    table = products_table(pg_source_url, rows=3)
    owner = await register_tenant(live_client, "peer")
    created = await register(
        live_client,
        owner,
        name="peer",
        connector_type="postgresql",
        vertical=f"peer_{uuid.uuid4().hex[:6]}",
        entity_type="product",
        connection_config={"dsn": pg_source_url},
        query=f"SELECT id, title FROM {table}",
        name_column="title",
    )
    status, served = await pull_via_dagster(live_client, owner, dagster_runner, created["id"])
    assert served.run.success, status
    assert status["status"] == "completed" and status["records_ingested"] == 3


async def test_a_peer_reached_by_name_is_connected_at_the_checked_address(
    live_client: httpx.AsyncClient,
    dagster_runner: DagsterRunner,  # noqa: F811
    mysql_source: MySQLSource,  # noqa: F811
    names: FakeNames,
) -> None:
    """MariaDB on 127.0.0.1 (allow-listed) behind a name: the name is resolved once when the pull
    connects and the driver connects to that address; the name's next answer (an address where
    nothing listens) is never used."""
    host = f"peer-{uuid.uuid4().hex[:6]}.test"
    names.answers[host] = ["127.0.0.1", "127.0.0.1", "10.255.255.1"]
    table = f"items_{uuid.uuid4().hex[:6]}"
    await mysql_source.execute(
        f"CREATE TABLE {table} (id INT PRIMARY KEY, title VARCHAR(50))",
        f"INSERT INTO {table} VALUES (1, 'washer'), (2, 'bolt')",
    )
    owner = await register_tenant(live_client, "peer")
    created = await register(
        live_client,
        owner,
        name="maria",
        connector_type="mysql",
        vertical=f"peer_{uuid.uuid4().hex[:6]}",
        entity_type="item",
        connection_config=mysql_source.config(host=host, connect_timeout=3),
        query=f"SELECT id, title FROM {table}",
        name_column="title",
    )
    status, served = await pull_via_dagster(live_client, owner, dagster_runner, created["id"])
    assert served.run.success, status
    assert status["status"] == "completed" and status["records_ingested"] == 2
    assert names.calls[host] == 2  # registration + the connect-time check; the driver asked nobody
