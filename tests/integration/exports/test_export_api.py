"""The export API end to end: request, Dagster run, status, streamed download, expiry, isolation."""

from __future__ import annotations

import csv
import io
import json
import uuid

import dagster as dg
import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.db.models import Collection, WorkRequest
from orchestration.definitions import defs
from orchestration.resources import DatabaseResource
from tests.integration.conftest import TenantKey, register_tenant
from tests.integration.exports.dagster_runs import serve_export_requests
from tests.integration.exports.export_seed import add_records, make_collection


def seed_catalog(engine: sa.Engine, tenant: TenantKey, collection: str = "manufacturing") -> None:
    with Session(engine) as session:
        tenant_row_id = uuid.UUID(tenant.tenant_id)
        target = make_collection(session, _tenant(session, tenant_row_id), collection)
        add_records(
            session,
            target,
            [
                ("Bolt M8", {"part_number": "SS-M8-40", "price_eur": 0.12}),
                ("Nut M8", {"part_number": "NUT-M8", "material": "brass"}),
                ("Washer", {"material": "steel"}),
            ],
        )
        add_records(session, target, [("Draft screw", {"part_number": "DR-1"})], status="draft")
        session.commit()


def _tenant(session: Session, tenant_id: uuid.UUID):
    from core.db.models import Tenant

    return session.get(Tenant, tenant_id)


@pytest.fixture
async def owner(live_client: httpx.AsyncClient, sync_engine: sa.Engine) -> TenantKey:
    tenant = await register_tenant(live_client, "exporter")
    seed_catalog(sync_engine, tenant)
    return tenant


async def test_export_runs_as_a_dagster_run_and_downloads_as_csv(
    live_client: httpx.AsyncClient, owner: TenantKey, database_url: str
) -> None:
    started = await live_client.post(
        "/api/v1/export", params={"collection": "manufacturing", "format": "csv"}, headers=owner.headers
    )
    assert started.status_code == 202, started.text
    export_id = started.json()["export_id"]
    assert export_id.startswith("exp_") and started.json()["status"] == "processing"

    status = await live_client.get(f"/api/v1/export/{export_id}/status", headers=owner.headers)
    assert status.json() == {"status": "processing", "progress": 0, "total": None}
    early = await live_client.get(f"/api/v1/export/{export_id}/download", headers=owner.headers)
    assert early.status_code == 409 and early.json()["error"]["code"] == "EXPORT_NOT_READY"
    active = await live_client.get("/api/v1/export/active", headers=owner.headers)
    assert [e["export_id"] for e in active.json()] == [export_id]
    assert active.json()[0]["collection"] == "manufacturing"

    request_id = uuid.UUID(hex=export_id.removeprefix("exp_"))
    with dg.instance_for_test() as instance:
        runs = serve_export_requests(instance, database_url, only={str(request_id)})
        assert len(runs) == 1 and runs[0].success
        # the row is no longer queued: the next tick launches nothing more for it
        assert serve_export_requests(instance, database_url, only={str(request_id)}) == []

    done = await live_client.get(f"/api/v1/export/{export_id}/status", headers=owner.headers)
    assert done.json() == {"status": "completed", "progress": 3, "total": 3}
    download = await live_client.get(f"/api/v1/export/{export_id}/download", headers=owner.headers)
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert "attachment" in download.headers["content-disposition"]
    assert f"manufacturing-active-{export_id}.csv" in download.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert sorted(r["name"] for r in rows) == ["Bolt M8", "Nut M8", "Washer"]
    assert list(rows[0])[-3:] == ["material", "part_number", "price_eur"]
    assert (await live_client.get("/api/v1/export/active", headers=owner.headers)).json() == []


async def test_json_export_of_draft_records(
    live_client: httpx.AsyncClient, owner: TenantKey, database_url: str
) -> None:
    started = await live_client.post(
        "/api/v1/export", headers=owner.headers, params={"collection": "manufacturing", "status": "draft"}
    )
    export_id = started.json()["export_id"]
    with dg.instance_for_test() as instance:
        serve_export_requests(instance, database_url, only={str(uuid.UUID(hex=export_id[4:]))})
    download = await live_client.get(f"/api/v1/export/{export_id}/download", headers=owner.headers)
    assert download.headers["content-type"] == "application/json"
    assert [r["name"] for r in json.loads(download.content)] == ["Draft screw"]


async def test_another_tenants_export_is_not_found(live_client: httpx.AsyncClient, owner: TenantKey) -> None:
    stranger = await register_tenant(live_client, "stranger")
    started = await live_client.post(
        "/api/v1/export", params={"collection": "manufacturing"}, headers=owner.headers
    )
    export_id = started.json()["export_id"]
    for path in (f"/api/v1/export/{export_id}/status", f"/api/v1/export/{export_id}/download"):
        peek = await live_client.get(path, headers=stranger.headers)
        assert peek.status_code == 404 and peek.json()["error"]["code"] == "NOT_FOUND"
    assert (await live_client.get("/api/v1/export/active", headers=stranger.headers)).json() == []
    # nor can a stranger export a collection by the owner's name
    theirs = await live_client.post(
        "/api/v1/export", params={"collection": "manufacturing"}, headers=stranger.headers
    )
    assert theirs.status_code == 404


async def test_bad_requests_are_refused_clearly(live_client: httpx.AsyncClient, owner: TenantKey) -> None:
    cases = [
        ({"collection": "manufacturing", "format": "xlsx"}, 400, "format must be csv or json"),
        ({"collection": "manufacturing", "status": "deleted"}, 400, "status must be one of"),
        ({"collection": "nope"}, 404, "collection 'nope' not found"),
        ({}, 400, ""),
    ]
    for params, status, message in cases:
        response = await live_client.post("/api/v1/export", params=params, headers=owner.headers)
        assert response.status_code == status, (params, response.text)
        assert message in response.json()["detail"]
    for bad in ("exp_zz", "nonsense", f"exp_{uuid.uuid4().hex}"):
        assert (
            await live_client.get(f"/api/v1/export/{bad}/status", headers=owner.headers)
        ).status_code == 404
    unauthenticated = await live_client.post("/api/v1/export", params={"collection": "manufacturing"})
    assert unauthenticated.status_code == 401


async def test_a_failed_export_says_why(
    live_client: httpx.AsyncClient, owner: TenantKey, database_url: str, sync_engine: sa.Engine
) -> None:
    started = await live_client.post(
        "/api/v1/export", params={"collection": "manufacturing"}, headers=owner.headers
    )
    export_id = started.json()["export_id"]
    with Session(sync_engine) as session:  # the collection vanishes before the run starts
        session.execute(sa.delete(Collection).where(Collection.tenant_id == uuid.UUID(owner.tenant_id)))
        session.commit()
    with dg.instance_for_test() as instance:
        runs = serve_export_requests(instance, database_url, only={str(uuid.UUID(hex=export_id[4:]))})
        assert len(runs) == 1 and not runs[0].success
    status = (await live_client.get(f"/api/v1/export/{export_id}/status", headers=owner.headers)).json()
    assert status["status"] == "failed" and status["error"] == "collection 'manufacturing' not found"
    download = await live_client.get(f"/api/v1/export/{export_id}/download", headers=owner.headers)
    assert download.status_code == 409 and "not found" in download.json()["detail"]


async def test_the_expiry_schedule_removes_files_past_retention(
    live_client: httpx.AsyncClient, owner: TenantKey, database_url: str, sync_engine: sa.Engine, app_settings
) -> None:
    started = await live_client.post(
        "/api/v1/export", params={"collection": "manufacturing"}, headers=owner.headers
    )
    export_id = started.json()["export_id"]
    request_id = uuid.UUID(hex=export_id[4:])
    repository = defs.get_repository_def()
    with dg.instance_for_test() as instance:
        serve_export_requests(instance, database_url, only={str(request_id)})
        with Session(sync_engine) as session:
            row = session.get(WorkRequest, request_id)
            path = app_settings.export_dir / row.result["path"]
            assert path.is_file() and row.expires_at is not None
            row.expires_at = sa.func.now() - sa.text("interval '1 minute'")
            session.commit()
        schedule = repository.get_schedule_def("export_expiry_schedule")
        assert schedule.cron_schedule == "*/15 * * * *"
        run = repository.get_job(schedule.job_name).execute_in_process(
            instance=instance, resources={"database": DatabaseResource(url=database_url)}
        )
        assert run.success
    assert not path.exists()
    status = (await live_client.get(f"/api/v1/export/{export_id}/status", headers=owner.headers)).json()
    assert status["status"] == "expired"
    gone = await live_client.get(f"/api/v1/export/{export_id}/download", headers=owner.headers)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "EXPORT_EXPIRED"
