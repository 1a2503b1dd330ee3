"""Keyed pulls from real PostgreSQL, MariaDB and a MongoDB-wire server (SecantusDB): a changed row updates
its record in place, incremental pulls converge at the watermark boundary and under concurrent updates,
mirror pulls and soft-delete columns archive, and archived records leave search and exports at once."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest
import sqlalchemy as sa
from pymongo import MongoClient

from core.exports.stream import run_export
from core.pulls.errors import PullFailed
from core.pulls.run import run_pull
from tests.integration.conftest import TenantKey, register_tenant
from tests.integration.connectors.peers import MySQLSource, SecantusServer, mysql_execute, pg_execute
from tests.integration.pulls.conftest import unique
from tests.integration.pulls.flows import register

pytestmark = pytest.mark.integration


def keyed(engine: sa.Engine, tenant_id: str, vertical: str) -> dict[str, list[tuple[str, float]]]:
    """Every record of the vertical by key: [(status, price), ...] (one entry per stored copy)."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT r.record_key, r.status, (r.collection_data->>'price')::float AS price FROM records r "
                "JOIN collections c ON c.id = r.collection_id WHERE c.tenant_id = :t AND c.name = :v"
            ),
            {"t": tenant_id, "v": vertical},
        ).all()
    found: dict[str, list[tuple[str, float]]] = {}
    for key, status, price in rows:
        found.setdefault(key, []).append((status, price))
    return found


def active_prices(engine: sa.Engine, tenant_id: str, vertical: str) -> dict[str, float]:
    copies = keyed(engine, tenant_id, vertical)
    assert all(len(c) == 1 for c in copies.values()), f"a key with several records: {copies}"
    return {k: c[0][1] for k, c in copies.items() if c[0][0] == "active"}


def pg_prices(url: str, table: str) -> dict[str, float]:
    return {str(i): float(p) for i, p in pg_execute(url, f"SELECT id, price FROM {table}")}


def priced_documents(uri: str, sku: str, noun: str, count: int) -> tuple[str, dict[str, str]]:
    """A new collection in the `shop` database of `count` documents `{sku: "<sku>-i", title: "<noun> i",
    price: i, updated_at: 2024-01-01 + i hours}`, and the connector config that reads it."""
    collection = unique(f"{noun}s")
    t0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    with MongoClient(uri) as client:
        client.shop[collection].insert_many(
            [{"sku": f"{sku}-{i}", "title": f"{noun} {i}", "price": i, "updated_at": t0 + dt.timedelta(hours=i)}
             for i in range(1, count + 1)]
        )
    return collection, {"uri": uri, "database": "shop", "collection": collection}


def watermark(engine: sa.Engine, connector_id: str) -> dt.datetime:
    with engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT last_pull_watermark FROM connectors WHERE id = :i"), {"i": connector_id}
        ).scalar_one()


async def pg_connector(client: httpx.AsyncClient, owner: TenantKey, dsn: str, table: str, **extra) -> dict:
    return await register(
        client,
        owner,
        name="parts",
        connector_type="postgresql",
        vertical=extra.pop("vertical"),
        entity_type="part",
        connection_config={"dsn": dsn},
        name_column="title",
        key_column="id",
        batch_size=5,
        **extra,
    )


async def test_incremental_pulls_converge_with_boundary_rows_and_updates_during_the_pull(
    live_client: httpx.AsyncClient, pg_source_url: str, reader_dsn: str, sync_engine: sa.Engine
) -> None:
    table = unique("parts")
    pg_execute(
        pg_source_url,
        f"CREATE TABLE {table} (id int PRIMARY KEY, title text, price numeric(10,2), "
        "updated_at timestamptz NOT NULL DEFAULT clock_timestamp())",
        f"INSERT INTO {table} SELECT g, 'part ' || g, g, timestamptz '2024-01-01' + g * interval '1 minute' "
        "FROM generate_series(1, 20) g",
    )
    owner = await register_tenant(live_client, "keyed-incr")
    vertical = unique("parts")
    created = await pg_connector(
        live_client, owner, reader_dsn, table, vertical=vertical,
        query=f"SELECT id, title, price FROM {table} WHERE updated_at > :last_pull ORDER BY id",
    )
    first = await asyncio.to_thread(run_pull, sync_engine, created["id"], commit_rows=5)
    assert (first.records_pulled, first.records_inserted, first.records_updated) == (20, 20, 0)

    # ten changed rows: the next pull reads them in two units, and the source changes between those
    pg_execute(pg_source_url, f"UPDATE {table} SET price = price + 0.5, updated_at = clock_timestamp() "
               "WHERE id BETWEEN 10 AND 19")
    # a writer that stamps row 2 now but commits only while the next pull is running (after its
    # snapshot): its updated_at is older than the watermark that pull saves
    late = psycopg.connect(pg_source_url)
    late.execute(f"UPDATE {table} SET price = 202, updated_at = now() WHERE id = 2")
    await asyncio.sleep(0.05)
    during: list[str] = []

    def concurrent_writes(partial) -> None:
        if not during:
            during.append("done")
            pg_execute(pg_source_url, f"UPDATE {table} SET price = 303, updated_at = clock_timestamp() WHERE id = 3")
            late.commit()

    try:
        second = await asyncio.to_thread(run_pull, sync_engine, created["id"], commit_rows=5,
                                         progress=concurrent_writes)
    finally:
        late.close()
    assert during == ["done"] and second.status == "completed"
    assert (second.records_updated, second.records_inserted) == (10, 0)
    saved = watermark(sync_engine, created["id"])
    # a row stamped at exactly the saved watermark (the classic cursor-boundary row)
    pg_execute(pg_source_url, f"UPDATE {table} SET price = 404, updated_at = '{saved.isoformat()}' WHERE id = 4")

    third = await asyncio.to_thread(run_pull, sync_engine, created["id"], commit_rows=5)
    assert third.status == "completed"
    fourth = await asyncio.to_thread(run_pull, sync_engine, created["id"], commit_rows=5)
    assert fourth.records_ingested == 0  # converged: nothing left to change
    # exactly one active record per source row, each at the source's current price
    assert active_prices(sync_engine, owner.tenant_id, vertical) == pg_prices(pg_source_url, table)


async def test_mirror_pull_archives_rows_gone_from_the_source_and_soft_deleted_ones(
    live_client: httpx.AsyncClient, pg_source_url: str, reader_dsn: str, sync_engine: sa.Engine,
    tmp_path: Path,
) -> None:
    table = unique("stock")
    pg_execute(
        pg_source_url,
        f"CREATE TABLE {table} (id int PRIMARY KEY, title text, price numeric(10,2), deleted boolean DEFAULT false)",
        f"INSERT INTO {table} SELECT g, 'gasket PG-' || g, g FROM generate_series(1, 8) g",
    )
    owner = await register_tenant(live_client, "keyed-mirror")
    vertical = unique("stock")
    created = await pg_connector(
        live_client, owner, reader_dsn, table, vertical=vertical, mode="mirror", deleted_column="deleted",
        query=f"SELECT id, title, price, deleted FROM {table} ORDER BY id",
    )
    assert created["mode"] == "mirror" and created["key_column"] == "id"
    first = await asyncio.to_thread(run_pull, sync_engine, created["id"])
    assert (first.records_inserted, first.mirror) == (8, "applied")

    pg_execute(
        pg_source_url,
        f"DELETE FROM {table} WHERE id = 7",
        f"UPDATE {table} SET deleted = true WHERE id = 8",
        f"UPDATE {table} SET price = 99 WHERE id = 1",
    )
    second = await asyncio.to_thread(run_pull, sync_engine, created["id"])
    assert (second.records_updated, second.records_archived, second.records_ingested) == (1, 2, 1)
    assert second.to_dict()["duplicates_skipped"] == 5  # rows 2-6 unchanged
    assert active_prices(sync_engine, owner.tenant_id, vertical) == {str(i): i for i in range(2, 7)} | {"1": 99}

    found = (await live_client.post(f"/api/v1/search/{vertical}", json={"query": "gasket", "limit": 50, "search_mode": "fulltext"},
                                    headers=owner.headers)).json()
    names = {r["name"] for r in found["results"]}
    assert "gasket PG-1" in names and not names & {"gasket PG-7", "gasket PG-8"}
    exported = run_export(sync_engine, tenant_id=uuid.UUID(owner.tenant_id), collection=vertical,
                          format="json", export_dir=tmp_path)
    rows = json.loads(Path(exported.path).read_text())
    assert sorted(r["name"] for r in rows) == [f"gasket PG-{i}" for i in range(1, 7)]
    assert next(r for r in rows if r["name"] == "gasket PG-1")["collection_data"]["price"] == 99


async def test_a_key_column_the_query_does_not_return_is_422_before_anything_is_pulled(
    live_client: httpx.AsyncClient, pg_source_url: str, reader_dsn: str, sync_engine: sa.Engine
) -> None:
    table = unique("nokey")
    pg_execute(pg_source_url, f"CREATE TABLE {table} (id int, title text)", f"INSERT INTO {table} VALUES (1, 'a')")
    owner = await register_tenant(live_client, "keyed-missing")
    vertical = unique("v")
    created = await pg_connector(live_client, owner, reader_dsn, table, vertical=vertical,
                                 query=f"SELECT title FROM {table}")
    with pytest.raises(PullFailed) as failed:
        await asyncio.to_thread(run_pull, sync_engine, created["id"])
    assert failed.value.code == "KEY_COLUMN_MISSING" and "id not among the query's columns" in failed.value.message
    assert keyed(sync_engine, owner.tenant_id, vertical) == {}
    pulled = await live_client.post(f"/api/v1/connectors/{created['id']}/pull?wait=true&timeout=0",
                                    headers=owner.headers)
    assert pulled.status_code in (202, 422)  # queued (no daemon here) or refused; never a 500
    refused = await live_client.post("/api/v1/connectors", headers=owner.headers, json={
        "name": "x", "connector_type": "postgresql", "vertical": "v", "entity_type": "e",
        "connection_config": {"dsn": reader_dsn}, "query": "SELECT 1", "mode": "mirror"})
    assert refused.status_code == 422 and "key_column" in refused.json()["error"]["message"]


@pytest.mark.mysql
async def test_mariadb_keyed_pulls_update_in_place_converge_and_mirror(
    live_client: httpx.AsyncClient, mysql_source: MySQLSource, sync_engine: sa.Engine
) -> None:
    table = unique("parts")
    await mysql_source.execute(
        f"CREATE TABLE {table} (sku VARCHAR(20) PRIMARY KEY, label VARCHAR(50), price DECIMAL(10,2), "
        "gone TINYINT DEFAULT 0, updated_at DATETIME(6))",
        f"INSERT INTO {table} SELECT CONCAT('W-', seq), CONCAT('washer ', seq), seq, 0, "
        "TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq HOUR FROM seq_1_to_12",
    )
    owner = await register_tenant(live_client, "keyed-my")
    vertical = unique("washers")
    config = mysql_source.reader_config()
    incremental = await register(
        live_client, owner, name="MariaDB parts", connector_type="mysql", vertical=vertical,
        entity_type="washer", connection_config=config, name_column="label", key_column="sku",
        deleted_column="gone", batch_size=4,
        query=f"SELECT sku, label, price, gone FROM {table} WHERE updated_at > :last_pull ORDER BY sku",
    )
    first = await asyncio.to_thread(run_pull, sync_engine, incremental["id"], commit_rows=4)
    assert first.records_inserted == 12

    def during(partial) -> None:
        if partial.records_pulled == 4:
            mysql_execute(mysql_source.database,
                          f"UPDATE {table} SET price = 55, updated_at = UTC_TIMESTAMP(6) WHERE sku = 'W-5'")

    await mysql_source.execute(  # eight rows stamped now: the next pull reads them in two units
        f"UPDATE {table} SET updated_at = UTC_TIMESTAMP(6) WHERE sku IN "
        "('W-1', 'W-2', 'W-3', 'W-4', 'W-9', 'W-10', 'W-11', 'W-12')",
    )
    second = await asyncio.to_thread(run_pull, sync_engine, incremental["id"], commit_rows=4, progress=during)
    assert second.status == "completed"
    saved = watermark(sync_engine, incremental["id"]).astimezone(dt.UTC).replace(tzinfo=None)
    await mysql_source.execute(
        f"UPDATE {table} SET price = 66, updated_at = '{saved.isoformat(sep=' ')}' WHERE sku = 'W-6'",
        f"UPDATE {table} SET gone = 1, updated_at = UTC_TIMESTAMP(6) WHERE sku = 'W-7'",
    )
    third = await asyncio.to_thread(run_pull, sync_engine, incremental["id"], commit_rows=4)
    assert third.records_archived == 1
    prices = {f"W-{i}": float(i) for i in range(1, 13) if i != 7} | {"W-5": 55.0, "W-6": 66.0}
    assert active_prices(sync_engine, owner.tenant_id, vertical) == prices

    await mysql_source.execute(f"DELETE FROM {table} WHERE sku = 'W-1'")
    mirror = await register(
        live_client, owner, name="MariaDB mirror", connector_type="mysql", vertical=vertical,
        entity_type="washer", connection_config=config, name_column="label", key_column="sku",
        deleted_column="gone", mode="mirror", query=f"SELECT sku, label, price, gone FROM {table}",
    )
    full = await asyncio.to_thread(run_pull, sync_engine, mirror["id"])
    assert (full.mirror, full.records_archived, full.records_ingested) == ("applied", 1, 0)
    del prices["W-1"]
    assert active_prices(sync_engine, owner.tenant_id, vertical) == prices


@pytest.mark.mysql
async def test_mariadb_row_committed_after_the_pull_began_is_picked_up_by_the_next_pull(
    live_client: httpx.AsyncClient, mysql_source: MySQLSource, sync_engine: sa.Engine
) -> None:
    """The cursor-boundary loss: a transaction stamps a row (updated_at = its own clock, before the
    pull's watermark) and commits only after the pull's snapshot. The pull cannot see it and saves a
    watermark later than its stamp; the next pull must still pick it up, never lose it."""
    import asyncmy

    table = unique("late")
    await mysql_source.execute(
        f"CREATE TABLE {table} (sku VARCHAR(20) PRIMARY KEY, label VARCHAR(50), price DECIMAL(10,2), "
        "updated_at DATETIME(6)) ENGINE=InnoDB",
        f"INSERT INTO {table} SELECT CONCAT('L-', seq), CONCAT('lock nut ', seq), seq, "
        "TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq HOUR FROM seq_1_to_6",
    )
    owner = await register_tenant(live_client, "keyed-my-late")
    vertical = unique("nuts")
    config = mysql_source.reader_config()
    created = await register(
        live_client, owner, name="MariaDB nuts", connector_type="mysql", vertical=vertical,
        entity_type="nut", connection_config=config, name_column="label", key_column="sku", batch_size=2,
        query=f"SELECT sku, label, price FROM {table} WHERE updated_at > :last_pull ORDER BY sku",
    )
    first = await asyncio.to_thread(run_pull, sync_engine, created["id"], commit_rows=2)
    assert first.records_inserted == 6

    # four rows stamped now: the next pull reads them in two units
    await mysql_source.execute(
        f"UPDATE {table} SET updated_at = UTC_TIMESTAMP(6) WHERE sku IN ('L-3', 'L-4', 'L-5', 'L-6')",
    )
    late = await asyncmy.connect(host="127.0.0.1", port=3306, user="root", password="",
                                 database=mysql_source.database, autocommit=False)
    loop = asyncio.get_running_loop()
    committed: list[str] = []
    try:
        async with late.cursor() as cur:  # uncommitted: the row lock is held, the new price invisible
            await cur.execute(f"UPDATE {table} SET price = 202, updated_at = UTC_TIMESTAMP(6) WHERE sku = 'L-2'")
            await cur.execute(f"SELECT updated_at FROM {table} WHERE sku = 'L-2'")
            stamped = (await cur.fetchone())[0]
        await asyncio.sleep(0.05)  # the pull's watermark is taken after the stamp

        def commit_late(partial) -> None:  # after the pull's first unit: its statement is running
            if not committed:
                asyncio.run_coroutine_threadsafe(late.commit(), loop).result(timeout=30)
                committed.append(partial.records_pulled)

        second = await asyncio.to_thread(run_pull, sync_engine, created["id"], commit_rows=2,
                                         progress=commit_late)
    finally:
        late.close()
    assert committed == [2] and second.status == "completed"
    assert second.records_pulled == 4  # the late row was not in the pull's snapshot...
    saved = watermark(sync_engine, created["id"]).astimezone(dt.UTC).replace(tzinfo=None)
    assert saved > stamped  # ...and its stamp is older than the watermark the pull saved
    assert active_prices(sync_engine, owner.tenant_id, vertical)["L-2"] == 2.0

    third = await asyncio.to_thread(run_pull, sync_engine, created["id"], commit_rows=2)
    assert third.status == "completed" and third.records_updated == 1  # picked up, not lost
    fourth = await asyncio.to_thread(run_pull, sync_engine, created["id"], commit_rows=2)
    assert fourth.records_ingested == 0  # converged
    assert active_prices(sync_engine, owner.tenant_id, vertical) == {f"L-{i}": float(i) for i in range(1, 7)} | {
        "L-2": 202.0}


async def test_mongodb_keyed_pulls_update_in_place_at_the_boundary_and_mirror(
    live_client: httpx.AsyncClient, mongo_server: SecantusServer, sync_engine: sa.Engine
) -> None:
    collection, config = priced_documents(mongo_server.uri, "G", "gasket", 8)
    owner = await register_tenant(live_client, "keyed-mongo")
    vertical = unique("gaskets")
    created = await register(
        live_client, owner, name="Mongo gaskets", connector_type="mongodb", vertical=vertical,
        entity_type="gasket", connection_config=config, name_column="title", key_column="sku", batch_size=3,
        query='{"filter": {"updated_at": {"$gt": ":last_pull"}}, "projection": {"_id": 0, "updated_at": 0}}',
    )
    first = await asyncio.to_thread(run_pull, sync_engine, created["id"], commit_rows=3)
    assert first.records_inserted == 8

    def during(partial) -> None:
        if partial.records_pulled == 3:
            with MongoClient(mongo_server.uri) as client:
                client.shop[collection].update_one(
                    {"sku": "G-2"}, {"$set": {"price": 22, "updated_at": dt.datetime.now(dt.UTC)}})

    with MongoClient(mongo_server.uri) as client:  # six documents stamped now: two units next pull
        client.shop[collection].update_many(
            {"sku": {"$in": ["G-1", "G-4", "G-5", "G-6", "G-7", "G-8"]}},
            {"$set": {"updated_at": dt.datetime.now(dt.UTC)}},
        )
    second = await asyncio.to_thread(run_pull, sync_engine, created["id"], commit_rows=3, progress=during)
    assert second.records_pulled >= 6
    saved = watermark(sync_engine, created["id"])
    with MongoClient(mongo_server.uri) as client:
        client.shop[collection].update_one({"sku": "G-3"}, {"$set": {"price": 33, "updated_at": saved}})
    await asyncio.to_thread(run_pull, sync_engine, created["id"], commit_rows=3)
    prices = {f"G-{i}": float(i) for i in range(1, 9)} | {"G-2": 22.0, "G-3": 33.0}
    assert active_prices(sync_engine, owner.tenant_id, vertical) == prices

    with MongoClient(mongo_server.uri) as client:
        client.shop[collection].delete_one({"sku": "G-8"})
    mirror = await register(
        live_client, owner, name="Mongo mirror", connector_type="mongodb", vertical=vertical,
        entity_type="gasket", connection_config=config, name_column="title", key_column="sku", mode="mirror",
        query='{"filter": {}, "projection": {"_id": 0, "updated_at": 0}}',
    )
    full = await asyncio.to_thread(run_pull, sync_engine, mirror["id"])
    assert (full.mirror, full.records_archived) == ("applied", 1)
    del prices["G-8"]
    assert active_prices(sync_engine, owner.tenant_id, vertical) == prices


@pytest.mark.parametrize("key_column", ["sku", None], ids=["keyed", "unkeyed"])
async def test_mongodb_document_inserted_behind_the_cursor_or_at_the_watermark_is_pulled_once(
    live_client: httpx.AsyncClient, mongo_server: SecantusServer, sync_engine: sa.Engine, key_column: str | None
) -> None:
    """The cursor-boundary loss over the MongoDB wire: a writer stamps a document before a pull begins
    but its insert lands while the pull runs, behind the pull's sorted cursor (the pull cannot see
    it, and saves a watermark later than its stamp); another document is stamped at exactly the saved
    watermark. The next pull picks both up, once each; the one after it adds nothing."""
    collection, config = priced_documents(mongo_server.uri, "W", "washer", 6)
    owner = await register_tenant(live_client, "mongo-late")
    vertical = unique("washers")
    created = await register(
        live_client, owner, name="Mongo washers", connector_type="mongodb", vertical=vertical,
        entity_type="washer", connection_config=config, name_column="title", key_column=key_column,
        batch_size=2,
        query='{"filter": {"updated_at": {"$gt": ":last_pull"}}, "projection": {"_id": 0, "updated_at": 0}, '
        '"sort": {"sku": 1}}',
    )
    first = await asyncio.to_thread(run_pull, sync_engine, created["id"], commit_rows=2)
    assert (first.records_pulled, first.records_ingested) == (6, 6)

    with MongoClient(mongo_server.uri) as client:  # four documents stamped now: two units next pull
        client.shop[collection].update_many(
            {"sku": {"$in": ["W-3", "W-4", "W-5", "W-6"]}},
            {"$set": {"price": 50, "updated_at": dt.datetime.now(dt.UTC)}},
        )
    now = dt.datetime.now(dt.UTC)
    stamped = now.replace(microsecond=now.microsecond // 1000 * 1000)  # BSON dates hold milliseconds
    await asyncio.sleep(0.05)  # the pull's watermark is taken after the stamp
    landed: list[int] = []

    def insert_late(partial) -> None:  # after the first unit: the cursor is past "A-..." (sorted by sku)
        if not landed:
            with MongoClient(mongo_server.uri) as client:
                client.shop[collection].insert_one(
                    {"sku": "A-late", "title": "washer late", "price": 7, "updated_at": stamped})
            landed.append(partial.records_pulled)

    second = await asyncio.to_thread(run_pull, sync_engine, created["id"], commit_rows=2, progress=insert_late)
    assert landed == [2] and second.status == "completed"
    assert (second.records_pulled, second.records_ingested) == (4, 4)  # the late document was not seen...
    saved = watermark(sync_engine, created["id"])
    assert saved > stamped  # ...and its stamp is older than the watermark the pull saved

    with MongoClient(mongo_server.uri) as client:  # stamped at exactly the saved watermark
        client.shop[collection].insert_one(
            {"sku": "B-edge", "title": "washer edge", "price": 8, "updated_at": saved})
    third = await asyncio.to_thread(run_pull, sync_engine, created["id"], commit_rows=2)
    # both picked up, once; the overlap re-reads the four changed documents and skips them
    assert (third.status, third.records_ingested, third.duplicates_skipped) == ("completed", 2, 4)
    fourth = await asyncio.to_thread(run_pull, sync_engine, created["id"], commit_rows=2)
    assert (fourth.records_ingested, fourth.duplicates_skipped) == (0, 6)  # converged

    with sync_engine.connect() as conn:
        stored = conn.execute(
            sa.text(
                "SELECT r.name, (r.collection_data->>'price')::float FROM records r "
                "JOIN collections c ON c.id = r.collection_id "
                "WHERE c.tenant_id = :t AND c.name = :v AND r.status = 'active'"
            ),
            {"t": owner.tenant_id, "v": vertical},
        ).all()
    pairs = {f"washer {i}": float(i) for i in (1, 2)} | {f"washer {i}": 50.0 for i in (3, 4, 5, 6)}
    expected = [*pairs.items(), ("washer late", 7.0), ("washer edge", 8.0)]
    if key_column is None:  # without a key the old prices stay, as other content (today's behaviour)
        expected += [(f"washer {i}", float(i)) for i in (3, 4, 5, 6)]
    assert sorted(stored) == sorted(expected)  # each document's content once: none lost, none twice
