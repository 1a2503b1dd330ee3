"""Pulls from MariaDB (asyncmy) and a MongoDB-wire server (pymongo) through the API and Dagster runs."""

from __future__ import annotations

import datetime as dt
import uuid

import httpx
import pytest
import sqlalchemy as sa
from bson import ObjectId
from pymongo import MongoClient

from tests.integration.conftest import register_tenant
from tests.integration.connectors.peers import MySQLSource, SecantusServer
from tests.integration.pulls.conftest import DagsterRunner, records, unique
from tests.integration.pulls.flows import pull_via_dagster, register

pytestmark = pytest.mark.integration


@pytest.mark.mysql
async def test_mariadb_pull_then_incremental_pull(
    live_client: httpx.AsyncClient,
    dagster_runner: DagsterRunner,
    mysql_source: MySQLSource,
    sync_engine: sa.Engine,
) -> None:
    table = unique("parts")
    await mysql_source.execute(
        f"CREATE TABLE {table} (id INT PRIMARY KEY, label VARCHAR(50), price DECIMAL(10,2), made DATE, "
        "updated_at DATETIME(6))",
        f"INSERT INTO {table} SELECT seq, CONCAT('washer ', seq), seq * 0.5, DATE '2024-01-01' + INTERVAL seq DAY, "
        "TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq HOUR FROM seq_1_to_30",
    )
    owner = await register_tenant(live_client, "pull-my")
    vertical = unique("washers")
    config = mysql_source.reader_config()
    created = await register(
        live_client,
        owner,
        name="MariaDB parts",
        connector_type="mysql",
        vertical=vertical,
        entity_type="washer",
        connection_config=config,
        name_column="label",
        query=f"SELECT id, label, price, made FROM {table} WHERE updated_at > :last_pull ORDER BY id",
    )
    first, served = await pull_via_dagster(live_client, owner, dagster_runner, created["id"])
    assert served.run.success and first["status"] == "completed"
    assert (first["records_pulled"], first["records_ingested"], first["duplicates_skipped"]) == (30, 30, 0)
    data = records(sync_engine, owner.tenant_id, vertical)[0].collection_data
    assert data["price"] == 0.5 and data["made"] == "2024-01-02"

    await mysql_source.execute(
        f"INSERT INTO {table} VALUES (31, 'washer 31', 15.5, '2024-02-01', UTC_TIMESTAMP(6) + INTERVAL 1 SECOND)",
    )
    second, _ = await pull_via_dagster(live_client, owner, dagster_runner, created["id"])
    assert (second["records_pulled"], second["records_ingested"]) == (1, 1)
    assert len(records(sync_engine, owner.tenant_id, vertical)) == 31
    listed = await live_client.get("/api/v1/connectors", headers=owner.headers)
    assert mysql_source.reader_password not in listed.text + str(first) + str(second)


@pytest.mark.mysql
async def test_mariadb_wrong_password_is_a_clear_failure(
    live_client: httpx.AsyncClient, dagster_runner: DagsterRunner, mysql_source: MySQLSource
) -> None:
    owner = await register_tenant(live_client, "pull-my-auth")
    wrong = "wrong-" + uuid.uuid4().hex[:8]
    created = await register(
        live_client,
        owner,
        name="bad login",
        connector_type="mysql",
        vertical=unique("v"),
        entity_type="x",
        connection_config=mysql_source.config(user=mysql_source.reader, password=wrong),
        query="SELECT 'a' AS name",
    )
    status, served = await pull_via_dagster(live_client, owner, dagster_runner, created["id"])
    assert not served.run.success
    assert status["status"] == "failed" and status["error_code"] == "SOURCE_AUTH_FAILED"
    assert wrong not in str(status)


@pytest.mark.mongodb
async def test_mongodb_pull_converts_bson_and_pulls_incrementally(
    live_client: httpx.AsyncClient,
    dagster_runner: DagsterRunner,
    mongo_server: SecantusServer,
    sync_engine: sa.Engine,
) -> None:
    collection = unique("docs")
    t0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    with MongoClient(mongo_server.uri) as client:
        client.shop[collection].insert_many(
            [
                {
                    "_id": ObjectId(),
                    "title": f"gasket {i}",
                    "size": i,
                    "updated_at": t0 + dt.timedelta(hours=i),
                }
                for i in range(1, 13)
            ]
        )
    owner = await register_tenant(live_client, "pull-mongo")
    vertical = unique("gaskets")
    created = await register(
        live_client,
        owner,
        name="Mongo gaskets",
        connector_type="mongodb",
        vertical=vertical,
        entity_type="gasket",
        connection_config={"uri": mongo_server.uri, "database": "shop", "collection": collection},
        query='{"filter": {"updated_at": {"$gt": ":last_pull"}}, "projection": {"updated_at": 0}}',
        name_column="title",
    )
    first, served = await pull_via_dagster(live_client, owner, dagster_runner, created["id"])
    assert served.run.success
    assert (first["records_pulled"], first["records_ingested"]) == (12, 12)
    data = records(sync_engine, owner.tenant_id, vertical)[0].collection_data
    assert isinstance(data["_id"], str) and len(data["_id"]) == 24 and "updated_at" not in data

    with MongoClient(mongo_server.uri) as client:
        client.shop[collection].insert_one(
            {
                "title": "gasket new",
                "size": 99,
                "updated_at": dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1),
            }
        )
    second, _ = await pull_via_dagster(live_client, owner, dagster_runner, created["id"])
    assert (second["records_pulled"], second["records_ingested"]) == (1, 1)
