"""Register a PostgreSQL connector, pull it through the API and a Dagster run, pull again incrementally."""

from __future__ import annotations

import json
import logging
import uuid

import dagster as dg
import httpx
import pytest
import sqlalchemy as sa

from core.db.models import Connector
from core.pulls.runs import pull_run_config
from core.security.encryption import CredentialBox
from core.settings import Settings
from tests.integration.conftest import TenantKey, register_tenant
from tests.integration.connectors.peers import pg_execute
from tests.integration.pulls.conftest import PASSWORD, DagsterRunner, products_table, records, unique
from tests.integration.pulls.flows import pull_via_dagster, register_pg, waiting_pull

pytestmark = pytest.mark.integration


async def test_pull_lands_searchable_records_and_never_shows_the_password(
    live_client: httpx.AsyncClient,
    dagster_runner: DagsterRunner,
    pg_source_url: str,
    reader_dsn: str,
    sync_engine: sa.Engine,
    app_settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    owner = await register_tenant(live_client, "pull-pg")
    table = products_table(pg_source_url)
    vertical = unique("parts")
    created = await register_pg(
        live_client,
        owner,
        reader_dsn,
        name="Production Postgres",
        vertical=vertical,
        entity_type="product",
        query=f"SELECT id, title, sku, price FROM {table} WHERE updated_at > :last_pull",
        name_column="title",
    )
    assert created["connection_config"] == "***REDACTED***"
    assert {"id", "name", "connector_type", "vertical", "entity_type", "created_at"} <= set(created)

    status, served = await pull_via_dagster(live_client, owner, dagster_runner, created["id"])
    assert served.run.success
    assert status["status"] == "completed"
    assert (status["records_pulled"], status["records_ingested"], status["duplicates_skipped"]) == (25, 25, 0)
    assert status["run_id"] == served.run.run_id

    rows = records(sync_engine, owner.tenant_id, vertical)
    assert len(rows) == 25
    first = rows[0]
    assert (first.record_type, first.source_type, first.source_name) == (
        "product",
        "connector",
        "Production Postgres",
    )
    assert first.collection_data["price"] == 1.25 and "title" not in first.collection_data
    with sync_engine.connect() as conn:  # full-text search finds a pulled record
        hit = (
            conn.execute(
                sa.text(
                    "SELECT r.name FROM records r JOIN collections c ON c.id = r.collection_id WHERE c.tenant_id = :t "
                    "AND c.name = :v AND r.search_text @@ plainto_tsquery('simple', 'M17')"
                ),
                {"t": owner.tenant_id, "v": vertical},
            )
            .scalars()
            .all()
        )
    assert hit == ["bolt M17"]

    # Dagster: the partition is the connector by name (its id in tags and metadata), metadata has
    # the counts, run config only the request id
    run = dagster_runner.instance.get_run_by_id(served.run.run_id)
    assert served.run_request.partition_key == f"{owner.name}/Production Postgres"
    assert run.tags["kariz/connector"] == created["id"]
    assert run.run_config["ops"]["connector_records"]["config"]["request_id"] == served.request_id
    materialization = served.run.asset_materializations_for_node("connector_records")[0]
    assert materialization.partition == f"{owner.name}/Production Postgres"
    assert materialization.metadata["connector_id"].value == created["id"]
    assert materialization.metadata["records_pulled"].value == 25
    assert materialization.metadata["records_ingested"].value == 25
    assert materialization.metadata["duplicates_skipped"].value == 0
    assert "duration_seconds" in materialization.metadata

    # credentials: nowhere in responses, logs, run config, tags, event log; encrypted at rest
    listed = await live_client.get("/api/v1/connectors", headers=owner.headers)
    one = await live_client.get(f"/api/v1/connectors/{created['id']}", headers=owner.headers)
    event_log = " ".join(str(e) for e in dagster_runner.instance.all_logs(served.run.run_id))
    for text in (
        str(created),
        listed.text,
        one.text,
        str(status),
        caplog.text,
        str(run.run_config),
        str(run.tags),
        event_log,
        str(materialization.metadata),
    ):
        assert PASSWORD not in text and reader_dsn not in text
    with sync_engine.connect() as conn:
        stored = conn.execute(
            sa.select(Connector.config_encrypted).where(Connector.id == created["id"])
        ).scalar_one()
    assert PASSWORD not in stored
    assert CredentialBox.from_settings(app_settings).decrypt(stored) == {"dsn": reader_dsn}


async def test_waiting_pull_answers_the_contract_result(
    live_client: httpx.AsyncClient, dagster_runner: DagsterRunner, pg_source_url: str, reader_dsn: str
) -> None:
    owner = await register_tenant(live_client, "pull-wait")
    table = products_table(pg_source_url, rows=10)
    created = await register_pg(
        live_client,
        owner,
        reader_dsn,
        name="waited",
        vertical=unique("v"),
        entity_type="product",
        query=f"SELECT title, price FROM {table}",
    )
    response, served = await waiting_pull(live_client, owner, dagster_runner, created["id"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "completed"
    assert (body["records_pulled"], body["records_ingested"], body["duplicates_skipped"]) == (10, 10, 0)
    assert isinstance(body["duration_seconds"], float)
    assert body["request_id"] == served[0].request_id


async def test_waiting_pull_without_a_daemon_answers_202_after_the_timeout(
    live_client: httpx.AsyncClient, pg_source_url: str, reader_dsn: str
) -> None:
    owner = await register_tenant(live_client, "pull-nodaemon")
    created = await register_pg(
        live_client,
        owner,
        reader_dsn,
        name="nobody runs me",
        vertical=unique("v"),
        entity_type="product",
        query="SELECT 'x' AS name",
    )
    response = await live_client.post(
        f"/api/v1/connectors/{created['id']}/pull?timeout=0.5", headers=owner.headers
    )
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued" and body["request_id"]
    progress = await live_client.get(f"/api/v1/requests/{body['request_id']}", headers=owner.headers)
    assert progress.json()["status"] == "queued"
    # deleting the connector cancels its queued pull
    assert (
        await live_client.delete(f"/api/v1/connectors/{created['id']}", headers=owner.headers)
    ).status_code == 204
    progress = await live_client.get(f"/api/v1/requests/{body['request_id']}", headers=owner.headers)
    assert progress.json()["status"] == "cancelled"


async def test_incremental_pull_takes_only_new_and_changed_rows_and_dedups_the_boundary(
    live_client: httpx.AsyncClient,
    dagster_runner: DagsterRunner,
    pg_source_url: str,
    reader_dsn: str,
    sync_engine: sa.Engine,
) -> None:
    owner = await register_tenant(live_client, "pull-incr")
    table = products_table(pg_source_url, rows=20)
    # a row stamped in the future sits on the boundary: every pull sees it again, unchanged
    pg_execute(pg_source_url, f"UPDATE {table} SET updated_at = now() + interval '1 day' WHERE id = 1")
    vertical = unique("incr")
    created = await register_pg(
        live_client,
        owner,
        reader_dsn,
        name="incremental",
        vertical=vertical,
        entity_type="part",
        name_column="title",
        query=f"SELECT id, title, price FROM {table} WHERE updated_at > :last_pull ORDER BY id",
    )
    first, _ = await pull_via_dagster(live_client, owner, dagster_runner, created["id"])
    assert (first["records_pulled"], first["records_ingested"]) == (20, 20)
    connector = (await live_client.get(f"/api/v1/connectors/{created['id']}", headers=owner.headers)).json()
    assert connector["last_status"] == "succeeded" and connector["last_pull_watermark"]

    pg_execute(
        pg_source_url,
        f"INSERT INTO {table} SELECT g, 'bolt M' || g, md5(g::text)::uuid, g * 1.25, now() "
        "FROM generate_series(21, 23) g",
        f"UPDATE {table} SET price = 99.5, updated_at = now() WHERE id = 5",
    )
    second, _ = await pull_via_dagster(live_client, owner, dagster_runner, created["id"])
    # 3 new + 1 changed + the boundary row again, which is a duplicate
    assert second["status"] == "completed"
    assert (second["records_pulled"], second["records_ingested"], second["duplicates_skipped"]) == (5, 4, 1)
    names = [r.name for r in records(sync_engine, owner.tenant_id, vertical)]
    assert len(names) == 24 and names.count("bolt M5") == 2  # the changed row is a new version


async def test_rows_with_unsupported_types_are_converted(
    live_client: httpx.AsyncClient,
    dagster_runner: DagsterRunner,
    pg_source_url: str,
    reader_dsn: str,
    sync_engine: sa.Engine,
) -> None:
    owner = await register_tenant(live_client, "pull-types")
    vertical = unique("types")
    created = await register_pg(
        live_client,
        owner,
        reader_dsn,
        name="typed",
        vertical=vertical,
        entity_type="thing",
        query="SELECT 'thing ' || g AS name, g * 1.5::numeric AS amount, md5(g::text)::uuid AS uid, "
        "date '2024-01-01' + g AS day, interval '1 hour' * g AS span, '\\x00ff'::bytea AS raw, "
        "jsonb_build_object('g', g) AS doc, 'NaN'::numeric AS odd FROM generate_series(1, 3) g",
    )
    status, _ = await pull_via_dagster(live_client, owner, dagster_runner, created["id"])
    assert status["status"] == "completed" and status["records_ingested"] == 3
    data = records(sync_engine, owner.tenant_id, vertical)[0].collection_data
    assert data["amount"] == 1.5 and data["day"] == "2024-01-02" and data["doc"] == {"g": 1}
    assert data["odd"] == "NaN" and data["span"] == 3600.0


async def test_scheduled_connector_is_pulled_by_the_schedule_sensor(
    live_client: httpx.AsyncClient,
    dagster_runner: DagsterRunner,
    pg_source_url: str,
    reader_dsn: str,
    sync_engine: sa.Engine,
) -> None:
    owner = await register_tenant(live_client, "pull-cron")
    vertical = unique("cron")
    created = await register_pg(
        live_client,
        owner,
        reader_dsn,
        name="every new year",
        vertical=vertical,
        entity_type="thing",
        schedule="0 0 1 1 *",
        query="SELECT 'scheduled ' || g AS name FROM generate_series(1, 4) g",
    )
    assert created["schedule"] == "0 0 1 1 *"
    # the cursor says this connector's last served tick was long ago: a tick is due now
    cursor = json.dumps({created["id"]: "2024-01-01T00:00:00+00:00"})
    tick = dagster_runner.tick("connector_schedule_sensor", cursor=cursor)
    ours = [r for r in tick.run_requests if r.tags["kariz/connector"] == created["id"]]
    assert len(ours) == 1 and ours[0].tags["kariz/trigger"] == "schedule"
    assert ours[0].partition_key == f"{owner.name}/every new year"
    assert created["id"] in tick.cursor and "2024-01-01" not in tick.cursor
    run = dagster_runner.execute(ours[0])
    assert run.success
    assert len(records(sync_engine, owner.tenant_id, vertical)) == 4
    # the same tick is not served twice
    again = dagster_runner.tick("connector_schedule_sensor", cursor=tick.cursor)
    assert ours[0].run_key not in {r.run_key for r in again.run_requests}
    pulls = (await live_client.get(f"/api/v1/connectors/{created['id']}", headers=owner.headers)).json()
    assert pulls["last_status"] == "succeeded"


def _changes(result: dg.SensorResult, kind: str) -> set[str]:
    return {
        k
        for r in result.dynamic_partitions_requests
        for k in r.partition_keys
        if type(r).__name__.startswith(kind)
    }


async def test_partition_sensor_follows_the_connectors_table_with_readable_keys(
    live_client: httpx.AsyncClient, dagster_runner: DagsterRunner, reader_dsn: str
) -> None:
    owner = await register_tenant(live_client, "pull-parts")

    async def connector(name: str) -> str:
        body = {"vertical": unique("v"), "entity_type": "thing", "query": "SELECT 'a' AS name"}
        return (await register_pg(live_client, owner, reader_dsn, name=name, **body))["id"]

    first = await connector("partitioned")
    second = await connector("partitioned")  # names are not unique: the younger gets its id's start
    odd = await connector("a/b...c\td")  # what Dagster refuses in a key, and no second `/`
    plain, suffixed = f"{owner.name}/partitioned", f"{owner.name}/partitioned [{uuid.UUID(second).hex[:8]}]"
    old_scheme = str(uuid.uuid4())  # an id key, as before keys were readable
    dagster_runner.instance.add_dynamic_partitions("connectors", [old_scheme])
    result = dagster_runner.tick("connector_partition_sensor")
    assert {plain, suffixed, f"{owner.name}/a\u2215b\u2026c d"} <= _changes(result, "Add")
    assert old_scheme in _changes(result, "Delete")
    assert not {first, second, odd} & _changes(result, "Add")

    # a backfill from the UI names a partition only: it pulls the connector the key names
    backfill = dg.RunRequest(partition_key=suffixed, run_config=pull_run_config("", "dagster"))
    run = dagster_runner.execute(backfill)
    assert run.success
    materialization = run.asset_materializations_for_node("connector_records")[0]
    assert materialization.metadata["connector_id"].value == second
    shown = (await live_client.get(f"/api/v1/connectors/{second}", headers=owner.headers)).json()
    assert shown["last_status"] == "succeeded"
    untouched = (await live_client.get(f"/api/v1/connectors/{first}", headers=owner.headers)).json()
    assert untouched["last_status"] is None

    # deleting the older one gives the younger the plain key; the suffixed partition goes
    dagster_runner.instance.add_dynamic_partitions("connectors", [plain, suffixed])
    await live_client.delete(f"/api/v1/connectors/{first}", headers=owner.headers)
    result = dagster_runner.tick("connector_partition_sensor")
    assert suffixed in _changes(result, "Delete") and plain not in _changes(result, "Delete")
    queued = await live_client.post(f"/api/v1/connectors/{second}/pull?wait=false", headers=owner.headers)
    ours = [r for r in dagster_runner.tick().run_requests if r.run_key == queued.json()["request_id"]]
    assert len(ours) == 1 and ours[0].partition_key == plain


async def test_other_tenants_cannot_see_pull_or_delete(
    client: httpx.AsyncClient, tenant_key: TenantKey, other_tenant_key: TenantKey, reader_dsn: str
) -> None:
    created = await register_pg(
        client,
        tenant_key,
        reader_dsn,
        name="mine",
        vertical="mine",
        entity_type="thing",
        query="SELECT 'a' AS name",
    )
    cid = created["id"]
    queued = await client.post(f"/api/v1/connectors/{cid}/pull?wait=false", headers=tenant_key.headers)
    request_id = queued.json()["request_id"]
    stranger = other_tenant_key.headers
    assert (await client.get("/api/v1/connectors", headers=stranger)).json() == []
    for method, path in (
        ("GET", f"/api/v1/connectors/{cid}"),
        ("POST", f"/api/v1/connectors/{cid}/pull"),
        ("GET", f"/api/v1/connectors/{cid}/pulls/{request_id}"),
        ("GET", f"/api/v1/requests/{request_id}"),
        ("DELETE", f"/api/v1/connectors/{cid}"),
    ):
        response = await client.request(method, path, headers=stranger)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"]["code"] == "NOT_FOUND"
    assert [c["id"] for c in (await client.get("/api/v1/connectors", headers=tenant_key.headers)).json()] == [
        cid
    ]
