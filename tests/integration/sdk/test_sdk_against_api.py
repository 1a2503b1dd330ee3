"""The SDK against the real API (uvicorn in-process, real PostgreSQL, real Dagster runs): no mocks."""

from __future__ import annotations

import csv
import io
import json
import uuid
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

import kariz
from core.db.models import Tenant
from tests.integration.exports.dagster_runs import export_daemon
from tests.integration.exports.export_seed import add_records, make_collection
from tests.integration.sdk.scripted_server import scripted_server


def seed(engine: sa.Engine, tenant_id: str, collection: str = "manufacturing", n: int = 40) -> None:
    with Session(engine) as session:
        target = make_collection(session, session.get(Tenant, uuid.UUID(tenant_id)), collection)
        add_records(
            session,
            target,
            [(f"Bolt M{i}", {"part_number": f"SS-{i}", "price_eur": i / 100}) for i in range(n)],
        )
        session.commit()


@pytest.fixture
def tenant(api_url: str) -> kariz.models.Registration:
    with kariz.Client(api_url) as anonymous:
        name = f"sdk-{uuid.uuid4().hex[:10]}"
        return anonymous.register(name, f"{name}@example.com")


@pytest.fixture
def client(api_url: str, tenant: kariz.models.Registration):
    with kariz.Client(api_url, tenant.api_key, retries=1, backoff=0.05) as c:
        yield c


def test_register_then_tenant_health_and_keys(api_url: str, tenant, client: kariz.Client) -> None:
    assert tenant.api_key.startswith("sk_live_") and "admin" in tenant.scopes
    me = client.tenant()
    assert me.id == tenant.tenant_id and me.name.startswith("sdk-")
    assert client.health().status == "healthy"
    assert client.ready().ready is True
    assert [t.tenant_id for t in client.admin_tenants()] == [tenant.tenant_id]

    reader = client.create_api_key(tenant.tenant_id, "read-only", ["tenant:read"])
    assert reader.api_key.startswith("sk_live_") and reader.scopes == ["tenant:read"]
    assert {k.name for k in client.list_api_keys(tenant.tenant_id)} >= {"read-only"}
    with kariz.Client(api_url, reader.api_key, retries=0) as limited:
        assert limited.tenant().id == tenant.tenant_id
        with pytest.raises(kariz.PermissionDenied) as denied:
            limited.start_export("manufacturing")
        assert denied.value.status == 403 and denied.value.code == "FORBIDDEN"
        assert client.revoke_api_key(tenant.tenant_id, reader.id).revoked
        with pytest.raises(kariz.AuthenticationError):
            limited.tenant()


def test_bad_credentials_raise_authentication_error(api_url: str) -> None:
    with (
        kariz.Client(api_url, "sk_live_" + "x" * 40, retries=0) as stranger,
        pytest.raises(kariz.AuthenticationError) as raised,
    ):
        stranger.tenant()
    assert raised.value.status == 401 and raised.value.code == "UNAUTHORIZED"


def test_export_in_one_call_writes_the_file_with_the_servers_name(
    client: kariz.Client, tenant, sync_engine: sa.Engine, database_url: str, tmp_path: Path
) -> None:
    seed(sync_engine, tenant.tenant_id)
    with export_daemon(database_url):
        result = client.export("manufacturing", format="csv", to=tmp_path, poll_interval=0.1, timeout=60)
    assert result.path is not None and result.path.parent == tmp_path
    assert result.path.name == f"manufacturing-active-{result.export_id}.csv"
    rows = list(csv.DictReader(result.path.open(encoding="utf-8")))
    assert len(rows) == result.rows == 40 and result.bytes == result.path.stat().st_size
    assert {r["part_number"] for r in rows} == {f"SS-{i}" for i in range(40)}
    assert result.content_type.startswith("text/csv")
    assert client.export_status(result.export_id).status == "completed"
    assert [p.name for p in tmp_path.iterdir()] == [result.path.name]  # no partial file left


def test_export_lifecycle_step_by_step_and_its_errors(
    client: kariz.Client, tenant, sync_engine: sa.Engine, api_url: str
) -> None:
    seed(sync_engine, tenant.tenant_id)
    job = client.start_export("manufacturing", format="json")
    assert job.status == "processing"
    assert client.export_status(job.export_id).total is None
    assert [e.export_id for e in client.active_exports()] == [job.export_id]
    with pytest.raises(kariz.ConflictError) as busy:
        client.download_export(job.export_id, io.BytesIO())
    assert busy.value.code == "EXPORT_NOT_READY"
    with pytest.raises(kariz.NotFoundError, match="collection 'nope' not found"):
        client.start_export("nope")
    with pytest.raises(kariz.ValidationError):
        client.start_export("manufacturing", format="xlsx")
    with kariz.Client(api_url) as anonymous:
        other = anonymous.register(f"sdk-other-{uuid.uuid4().hex[:8]}", "o@example.com")
    with kariz.Client(api_url, other.api_key) as stranger, pytest.raises(kariz.NotFoundError):
        stranger.export_status(job.export_id)


async def test_async_client_exports_json_into_a_file_object(
    api_url: str, tenant, sync_engine: sa.Engine, database_url: str
) -> None:
    seed(sync_engine, tenant.tenant_id, "pharma", n=5)
    sink = io.BytesIO()
    async with kariz.AsyncClient(api_url, tenant.api_key) as client:
        assert (await client.tenant()).id == tenant.tenant_id
        with export_daemon(database_url):
            result = await client.export("pharma", format="json", to=sink, poll_interval=0.1, timeout=60)
        with pytest.raises(kariz.NotFoundError):
            await client.export_status("exp_" + uuid.uuid4().hex)
    records = json.loads(sink.getvalue())
    assert result.path is None and result.bytes == len(sink.getvalue()) and result.rows == 5
    assert sorted(r["collection_data"]["part_number"] for r in records) == [f"SS-{i}" for i in range(5)]


async def test_async_client_runs_over_an_in_process_asgi_client(
    live_client: httpx.AsyncClient, tenant
) -> None:
    client = kariz.AsyncClient(str(live_client.base_url), tenant.api_key, http_client=live_client)
    me = await client.tenant()
    assert me.id == tenant.tenant_id
    with pytest.raises(kariz.NotFoundError):
        await client.start_export("missing")
    await client.aclose()  # not ours to close: the fixture's client keeps working
    assert (await live_client.get("/api/v1/health")).status_code == 200


# ------------------------------------------------------------------ retries, against a scripted real server


def test_429_is_retried_after_the_time_the_server_asks() -> None:
    replies = [(429, {"Retry-After": "0"}, {"detail": "slow down"}), (200, {}, {"status": "healthy"})]
    with scripted_server(replies) as (url, seen), kariz.Client(url, "sk_live_test", retries=2) as client:
        assert client.health().status == "healthy"
    assert seen == ["GET /api/v1/health", "GET /api/v1/health"]


def test_503_is_retried_with_backoff_then_raised_as_server_error() -> None:
    replies = [
        (503, {}, {"detail": "database down", "error": {"code": "SERVICE_UNAVAILABLE", "message": "db down"}})
    ]
    with (
        scripted_server(replies) as (url, seen),
        kariz.Client(url, retries=2, backoff=0.01) as client,
        pytest.raises(kariz.ServerError) as raised,
    ):
        client.start_export("c")
    assert len(seen) == 3 and raised.value.code == "SERVICE_UNAVAILABLE" and raised.value.message == "db down"


async def test_a_long_retry_after_is_not_waited_for() -> None:
    replies = [(429, {"Retry-After": "3600"}, {"error": {"code": "RATE_LIMITED", "message": "quota"}})]
    with scripted_server(replies) as (url, seen):
        async with kariz.AsyncClient(url, retries=3) as client:
            with pytest.raises(kariz.RateLimitError) as raised:
                await client.health()
    assert len(seen) == 1 and raised.value.retry_after == 3600


def test_an_unreachable_server_is_a_connection_error() -> None:
    with scripted_server([(200, {}, {})]) as (url, _):
        pass  # closed: nothing listens there any more
    with kariz.Client(url, retries=1, backoff=0.01) as client, pytest.raises(kariz.KarizConnectionError):
        client.health()


def test_kariz_export_command_downloads_through_the_sdk(
    api_url: str, tenant, sync_engine: sa.Engine, database_url: str, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from kariz.cli_export import command

    seed(sync_engine, tenant.tenant_id, "cli", n=3)
    target = tmp_path / "cli.json"
    with export_daemon(database_url):
        outcome = CliRunner().invoke(
            command,
            [
                "cli",
                "--format",
                "json",
                "-o",
                str(target),
                "--url",
                api_url,
                "--api-key",
                tenant.api_key,
                "--no-progress",
            ],
        )
    assert outcome.exit_code == 0, outcome.output
    assert "3 rows" in outcome.output and str(target) in outcome.output
    assert len(json.loads(target.read_text())) == 3
    missing = CliRunner().invoke(
        command, ["nope", "--url", api_url, "--api-key", tenant.api_key, "--no-progress"]
    )
    assert missing.exit_code == 1 and "collection 'nope' not found" in missing.output


def test_ingested_files_come_back_out_of_an_export(
    client: kariz.Client, database_url: str, tmp_path: Path
) -> None:
    catalog = tmp_path / "catalog.csv"
    catalog.write_text(
        "name,part_number,price_eur\nBolt M8,SS-M8,0.12\nNut M8,NUT-M8,0.05\n", encoding="utf-8"
    )
    ingested = client.ingest_file("sdkcat", catalog, entity_type="fastener")
    assert ingested.summary.accepted == 2 and ingested.summary.rejected == 0
    again = client.ingest_file("sdkcat", catalog.read_bytes(), filename="catalog.csv", entity_type="fastener")
    assert again.summary.accepted == 0 and again.summary.dedup_skipped == 2
    with export_daemon(database_url):
        result = client.export(
            "sdkcat", format="json", to=tmp_path / "out.json", poll_interval=0.1, timeout=60
        )
    exported = {r["name"]: r["collection_data"] for r in json.loads(result.path.read_text())}
    assert exported["Bolt M8"]["part_number"] == "SS-M8" and exported["Bolt M8"]["price_eur"] == 0.12


def test_searches_through_the_served_app_see_each_write_and_page_with_totals(
    client: kariz.Client, tmp_path: Path
) -> None:
    # the served app reads searches through its autocommit session: every answer reflects the
    # writes committed before it (no cached or stale generation), with the page's total
    catalog = tmp_path / "catalog.csv"
    catalog.write_text(
        "name,part_number,price_eur\nHex Bolt M8,HB-M8-40,0.12\nHex Bolt M10,HB-M10-40,0.18\n"
        "Hex Nut M8,HN-M8,0.05\n",
        encoding="utf-8",
    )
    client.ingest_file("sdksearch", catalog, entity_type="fastener")
    exact = client.search("sdksearch", query="HB-M10-40")
    assert exact.results[0].name == "Hex Bolt M10" and exact.results[0].score == 1.0
    first = client.search("sdksearch", query="hex bolt", limit=1, search_mode="fulltext")
    assert first.metadata.total_estimate == 2 and first.pagination.has_more is True
    more = tmp_path / "more.csv"
    more.write_text("name,part_number,price_eur\nHex Bolt M12,HB-M12-40,0.25\n", encoding="utf-8")
    client.ingest_file("sdksearch", more, entity_type="fastener")
    after = client.search("sdksearch", query="hex bolt", limit=1, search_mode="fulltext")
    assert after.metadata.total_estimate == 3 and after.metadata.cache_hit is False


def test_sdk_keyed_uploads_update_in_place_and_report_the_counts(client: kariz.Client) -> None:
    first = client.ingest_file("catalog", b"sku,name,price\nPG-0001-Z,Gasket,23.98\nPG-0002-Z,Seal,4\n",
                               filename="a.csv", entity_type="part", key_column="sku")
    assert (first.summary.inserted, first.metadata.record_key) == (2, ["sku"])
    again = client.ingest_records("catalog", [{"sku": "PG-0001-Z", "name": "Gasket", "price": 24.98}],
                                  entity_type="part", mode="mirror")
    assert (again.summary.updated, again.summary.archived, again.summary.unchanged) == (1, 1, 0)
