"""Bad registrations, failing sources and a source dying mid-pull: clear errors, no lost or leaked data."""

from __future__ import annotations

import threading
import time
import uuid

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.db.models import Connector
from core.pulls.errors import PullFailed
from core.pulls.run import run_pull
from tests.integration.conftest import TenantKey, register_tenant
from tests.integration.connectors.peers import free_port, pg_execute
from tests.integration.pulls.conftest import PASSWORD, DagsterRunner, unique
from tests.integration.pulls.flows import pull_via_dagster, register, waiting_pull

pytestmark = pytest.mark.integration


def body(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "name": "src",
        "connector_type": "postgresql",
        "vertical": "things",
        "entity_type": "thing",
        "connection_config": {"dsn": "postgresql://u:pw-secret@db.internal:5432/x"},
        "query": "SELECT name FROM t WHERE updated_at > :last_pull",
    }
    return {**base, **overrides}


@pytest.mark.parametrize(
    ("overrides", "status", "code", "says"),
    [
        ({"connector_type": "oracle"}, 422, "CONNECTOR_CONFIG_INVALID", "unknown connector_type"),
        (
            {"connector_type": "mysql", "connection_config": {"host": "h"}},
            422,
            "CONNECTOR_CONFIG_INVALID",
            "user",
        ),
        ({"query": "DELETE FROM t"}, 422, "SOURCE_WRITE_REFUSED", "only read statements"),
        ({"query": "SELECT 1; DROP TABLE t"}, 422, "SOURCE_WRITE_REFUSED", "2 statements"),
        (
            {
                "connector_type": "mongodb",
                "connection_config": {"uri": "mongodb://h", "database": "d", "collection": "c"},
                "query": "{not json",
            },
            422,
            "SOURCE_QUERY_INVALID",
            "not valid JSON",
        ),
        ({"password": "x"}, 400, "BAD_REQUEST", "unknown field(s): password"),
        ({"schedule": "every day"}, 422, "VALIDATION_ERROR", "5 fields"),
        ({"schedule": "61 * * * *"}, 422, "VALIDATION_ERROR", "minute"),
        ({"batch_size": 0}, 422, "VALIDATION_ERROR", "batch_size"),
        ({"vertical": "no spaces allowed"}, 422, "VALIDATION_ERROR", "vertical"),
        ({"entity_type": None}, 422, "VALIDATION_ERROR", "entity_type is required"),
    ],
)
async def test_bad_registrations_are_refused_with_the_reason(
    client: httpx.AsyncClient, tenant_key: TenantKey, overrides: dict, status: int, code: str, says: str
) -> None:
    response = await client.post("/api/v1/connectors", json=body(**overrides), headers=tenant_key.headers)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert says in response.json()["detail"]
    assert "pw-secret" not in response.text
    assert (await client.get("/api/v1/connectors", headers=tenant_key.headers)).json() == []


async def test_a_read_only_key_lists_but_cannot_create_pull_or_delete(
    client: httpx.AsyncClient, tenant_key: TenantKey
) -> None:
    from core.tenants import service

    created = await register(client, tenant_key, **body())
    async with client.app.state.session_factory() as session:
        issued = await session.run_sync(
            lambda s: service.create_api_key(s, uuid.UUID(tenant_key.tenant_id), "reader", ["tenant:read"])
        )
        await session.commit()
    reader = {"Authorization": f"Bearer {issued.raw}"}
    assert (await client.get("/api/v1/connectors", headers=reader)).status_code == 200
    for method, path in (
        ("POST", "/api/v1/connectors"),
        ("POST", f"/api/v1/connectors/{created['id']}/pull"),
        ("DELETE", f"/api/v1/connectors/{created['id']}"),
    ):
        response = await client.request(
            method, path, headers=reader, json=body() if method == "POST" else None
        )
        assert response.status_code == 403, (method, path)


def _dsn_with(dsn: str, password: str) -> str:
    """The DSN with another password and a user the server does not know (the embedded server trusts
    its socket, so only an unknown login is refused there)."""
    user = dsn.split("://", 1)[1].split(":", 1)[0]
    return dsn.replace(PASSWORD, password).replace(f"://{user}:", f"://nobody_{uuid.uuid4().hex[:6]}:")


async def test_wrong_password_fails_the_waiting_pull_clearly(
    live_client: httpx.AsyncClient,
    dagster_runner: DagsterRunner,
    reader_dsn: str,
) -> None:
    owner = await register_tenant(live_client, "fault-auth")
    wrong = "not-the-pw-" + uuid.uuid4().hex[:6]
    created = await register(
        live_client,
        owner,
        **body(
            vertical=unique("v"),
            connection_config={"dsn": _dsn_with(reader_dsn, wrong)},
            query="SELECT 'a' AS name",
        ),
    )
    response, served = await waiting_pull(live_client, owner, dagster_runner, created["id"])
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "SOURCE_AUTH_FAILED" and "login refused" in error["message"]
    assert error["request_id"] == served[0].request_id and error["records_pulled"] == 0
    assert wrong not in response.text
    assert not served[0].run.success  # not retried: a wrong password stays wrong
    status = await live_client.get(f"/api/v1/requests/{served[0].request_id}", headers=owner.headers)
    assert status.json()["status"] == "failed" and status.json()["attempts"] == 1 and wrong not in status.text
    listed = (await live_client.get(f"/api/v1/connectors/{created['id']}", headers=owner.headers)).json()
    assert listed["last_status"] == "failed" and listed["last_error"].startswith("SOURCE_AUTH_FAILED")


async def test_unreachable_host_is_retried_then_fails_clearly(
    live_client: httpx.AsyncClient, dagster_runner: DagsterRunner
) -> None:
    owner = await register_tenant(live_client, "fault-net")
    dsn = f"postgresql://u:pw-unreach@127.0.0.1:{free_port()}/db"
    created = await register(
        live_client,
        owner,
        **body(
            vertical=unique("v"),
            connection_config={"dsn": dsn, "connect_timeout": 2},
            query="SELECT 'a' AS name",
        ),
    )
    status, served = await pull_via_dagster(
        live_client, owner, dagster_runner, created["id"], fast_retries=True
    )
    assert not served.run.success
    assert status["status"] == "failed" and status["error_code"] == "SOURCE_UNREACHABLE"
    assert status["attempts"] == 2  # the first attempt was retried by the job's retry policy
    assert "cannot connect" in status["error"] and "pw-unreach" not in str(status)


@pytest.mark.parametrize(
    ("query", "name_column", "code", "says"),
    [
        ("SELECT FROM WHERE nothing", None, "SOURCE_QUERY_INVALID", "syntax"),
        ("SELECT nextval('kariz_counter') AS name", None, "SOURCE_WRITE_REFUSED", "tried to write"),
        ("SELECT 'x' AS title, 1 AS n", "label", "NAME_COLUMN_MISSING", "columns: title, n"),
    ],
)
async def test_queries_that_cannot_run_fail_without_retries(
    live_client: httpx.AsyncClient,
    dagster_runner: DagsterRunner,
    pg_source_url: str,
    reader_dsn: str,
    query: str,
    name_column: str | None,
    code: str,
    says: str,
) -> None:
    pg_execute(pg_source_url, "CREATE SEQUENCE IF NOT EXISTS kariz_counter")
    pg_execute(
        pg_source_url, f"GRANT ALL ON SEQUENCE kariz_counter TO {reader_dsn.split('://')[1].split(':')[0]}"
    )
    owner = await register_tenant(live_client, "fault-query")
    created = await register(
        live_client,
        owner,
        **body(
            vertical=unique("v"), connection_config={"dsn": reader_dsn}, query=query, name_column=name_column
        ),
    )
    status, served = await pull_via_dagster(live_client, owner, dagster_runner, created["id"])
    assert not served.run.success
    assert status["status"] == "failed" and status["error_code"] == code and status["attempts"] == 1
    assert says in status["error"]
    response = await live_client.get(f"/api/v1/connectors/{created['id']}", headers=owner.headers)
    assert response.json()["last_pull_watermark"] is None


def stored_connector(engine: sa.Engine, connector_id: str) -> Connector:
    with Session(engine) as session:
        return session.get(Connector, uuid.UUID(connector_id))


def _kill_when_running(source_url: str, marker: str, stop: threading.Event) -> None:
    while not stop.is_set():
        killed = pg_execute(
            source_url,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'kariz-connector' "
            f"AND query LIKE '%{marker}%' AND pid <> pg_backend_pid()",
        )
        if killed:
            return
        time.sleep(0.01)


async def test_source_dying_mid_pull_keeps_the_watermark_and_the_next_pull_resumes(
    live_client: httpx.AsyncClient,
    pg_source_url: str,
    reader_dsn: str,
    sync_engine: sa.Engine,
) -> None:
    owner = await register_tenant(live_client, "fault-lost")
    marker = unique("doomed")
    rows = 6000
    created = await register(
        live_client,
        owner,
        **body(
            vertical=unique("v"),
            connection_config={"dsn": reader_dsn},
            batch_size=500,
            name_column="name",
            query=f"SELECT 'item ' || g AS name, g AS n FROM generate_series(1, {rows}) g "
            f"WHERE now() > :last_pull /* {marker} */",
        ),
    )

    def kill_after_first_unit(partial) -> None:
        if partial.records_pulled < rows:
            pg_execute(
                pg_source_url,
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'kariz-connector' "
                f"AND query LIKE '%{marker}%' AND pid <> pg_backend_pid()",
            )

    with pytest.raises(PullFailed) as failed:
        run_pull(sync_engine, created["id"], progress=kill_after_first_unit, commit_rows=1000)
    assert failed.value.code == "SOURCE_LOST" and failed.value.retryable
    committed = failed.value.extra["records_ingested"]
    assert 1000 <= committed < rows  # the first unit is kept ...
    row = stored_connector(sync_engine, created["id"])
    assert row.last_pull_watermark is None and row.last_status == "failed"  # ... the watermark did not move

    resumed = run_pull(sync_engine, created["id"], commit_rows=1000)
    assert resumed.status == "completed"
    assert resumed.records_pulled == rows
    assert (resumed.records_ingested, resumed.duplicates_skipped) == (rows - committed, committed)
    row = stored_connector(sync_engine, created["id"])
    assert row.last_pull_watermark is not None and row.last_status == "succeeded"


async def test_a_run_whose_source_went_away_succeeds_on_retry(
    live_client: httpx.AsyncClient,
    dagster_runner: DagsterRunner,
    pg_source_url: str,
    reader_dsn: str,
) -> None:
    owner = await register_tenant(live_client, "fault-retry")
    marker = unique("flaky")
    created = await register(
        live_client,
        owner,
        **body(
            vertical=unique("v"),
            connection_config={"dsn": reader_dsn},
            batch_size=100,
            query=f"SELECT 'item ' || g AS name FROM generate_series(1, 3000) g /* {marker} */",
        ),
    )
    stop = threading.Event()
    killer = threading.Thread(target=_kill_when_running, args=(pg_source_url, marker, stop))
    killer.start()
    try:
        status, served = await pull_via_dagster(
            live_client, owner, dagster_runner, created["id"], fast_retries=True
        )
    finally:
        stop.set()
        killer.join()
    assert served.run.success
    assert status["status"] == "completed" and status["attempts"] == 2
    assert status["records_pulled"] == 3000
    assert status["records_ingested"] + status["duplicates_skipped"] == 3000
