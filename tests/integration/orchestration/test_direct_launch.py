"""A new request's run (and an upload's embedding run) is launched by the API right after its
commit, not by the next sensor tick: housekeeping, pulls (a brand-new connector's first one too,
its partition added in the same GraphQL document) and reindexing (in its collection's partition).

The API's real endpoint (`POST /tenants/{id}/housekeeping`) on real PostgreSQL, with the direct
launcher (api/requests/launch.py) pointed at a local HTTP endpoint that runs what it receives
through Dagster's own GraphQL schema (dagster-graphql, the schema the webserver serves) on a test
instance with Kariz's real code location loaded in process: no webserver process is started (one
takes tens of seconds here), but the mutation and variables are the ones the API sends. The run is
created with the request's run config and tags; the request sensor then asks for no second run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import httpx
import pytest
import sqlalchemy as sa
import yaml
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.test_utils import InProcessTestWorkspaceLoadTarget
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster_graphql.test.utils import execute_dagster_graphql
from sqlalchemy.orm import Session

from api.requests import launch
from assets.connectors import CONNECTOR_PARTITIONS
from assets.embeddings.partitions import COLLECTION_PARTITIONS
from core.admin.reindex import reindex_run_config
from core.db.models import Collection
from core.embeddings.runs import embed_run_config
from core.pulls.runs import CONNECTOR_TAG, TRIGGER_TAG, pull_run_config
from core.requests import COLLECTION_TAG, KIND_TAG, REQUEST_TAG, TENANT_TAG, SubmittedRequest, submit_request
from core.settings import REPO_ROOT, Settings, override_settings
from orchestration.definitions import defs
from orchestration.requests import DIRECT_LAUNCH_GRACE, left_to_api, request_run_config
from orchestration.resources import DatabaseResource
from tests.integration.conftest import register_tenant
from tests.integration.connectors.conftest import pg_source_url  # noqa: F401

pytestmark = pytest.mark.integration


class FakeWebserver:
    """`POST /graphql`, answered by Dagster's GraphQL schema on `context` (or recorded only)."""

    def __init__(self, workspace: WorkspaceProcessContext | None) -> None:
        self.received: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.received.append(body)
                data: dict = {"launchRun": {"__typename": "PythonError", "message": "recording only"}}
                if workspace is not None:
                    result = execute_dagster_graphql(
                        workspace.create_request_context(), body["query"], body["variables"]
                    )
                    data = result.data
                payload = json.dumps({"data": data}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def workspace() -> Iterator[WorkspaceProcessContext]:
    origin = InProcessCodeLocationOrigin(
        LoadableTargetOrigin(
            module_name="orchestration.definitions", attribute="defs", working_directory=str(REPO_ROOT)
        ),
        location_name="kariz",
    )
    config = yaml.safe_load((REPO_ROOT / "dagster.yaml").read_text())
    with (
        dg.instance_for_test(overrides={"run_coordinator": config["run_coordinator"]}) as instance,
        WorkspaceProcessContext(instance, InProcessTestWorkspaceLoadTarget(origin)) as context,
    ):
        yield context


@contextlib.contextmanager
def _launching_to(
    app_settings: Settings, workspace: WorkspaceProcessContext | None
) -> Iterator[FakeWebserver]:
    """The API's direct launcher installed against a webserver over `workspace`, for the block."""
    webserver = FakeWebserver(workspace)
    try:
        launch.install(app_settings.model_copy(update={"dagster_url": webserver.url}))
        yield webserver
    finally:
        launch.uninstall()
        webserver.close()


def _tick(instance: dg.DagsterInstance, sensor_name: str, database_url: str) -> dg.SensorResult:
    """One evaluation of the named sensor, as the daemon's next tick would run it."""
    sensor = defs.resolve_sensor_def(sensor_name)
    database = DatabaseResource(url=database_url)
    return sensor(dg.build_sensor_context(instance=instance, resources={"database": database}))


def _runs_of(instance: dg.DagsterInstance, request_id: str, timeout: float = 30) -> list[dg.DagsterRun]:
    return _runs_tagged(instance, {REQUEST_TAG: request_id}, timeout)


def _runs_tagged(
    instance: dg.DagsterInstance, tags: dict[str, str], timeout: float = 30
) -> list[dg.DagsterRun]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = instance.get_runs(filters=dg.RunsFilter(tags=tags))
        if runs:
            return runs
        time.sleep(0.05)
    return []


async def test_the_api_launches_a_new_requests_run_and_the_sensor_starts_no_second(
    live_client: httpx.AsyncClient,
    workspace: WorkspaceProcessContext,
    app_settings: Settings,
    database_url: str,
) -> None:
    instance = workspace.instance
    with _launching_to(app_settings, workspace) as webserver:
        owner = await register_tenant(live_client, "direct")
        queued = await live_client.post(
            f"/api/v1/tenants/{owner.tenant_id}/housekeeping", headers=owner.headers
        )
        assert queued.status_code == 202
        request_id = queued.json()["request_id"]
        runs = _runs_of(instance, request_id)
    assert len(runs) == 1, webserver.received
    run = runs[0]
    job = defs.resolve_job_def("housekeeping_job")
    assert run.job_name == job.name
    assert run.run_config == request_run_config(job, request_id)
    assert run.tags[REQUEST_TAG] == request_id and run.tags[TENANT_TAG] == owner.tenant_id
    assert run.tags[KIND_TAG] == "housekeeping"
    # the sensor's run key: Dagster's own run-key check finds this run too
    assert run.tags["dagster/run_key"] == request_id
    assert run.tags["dagster/sensor_name"] == "housekeeping_request_sensor"
    # submitted through the instance's run queue (dagster.yaml's), as the sensor's runs are
    deadline = time.monotonic() + 10
    while run.status == dg.DagsterRunStatus.NOT_STARTED and time.monotonic() < deadline:
        time.sleep(0.05)
        run = instance.get_run_by_id(run.run_id)
    assert run.status == dg.DagsterRunStatus.QUEUED

    # the row is still queued (the run has not started), yet the next tick asks for no run for it
    result = _tick(instance, "housekeeping_request_sensor", database_url)
    assert all(r.run_key != request_id for r in (result.run_requests or []))
    status = await live_client.get(f"/api/v1/requests/{request_id}", headers=owner.headers)
    assert status.json()["status"] == "queued"

    # every kind launched directly names a job and sensor the definitions have, with valid config,
    # and a partitioned job's own partition set
    for kind, build in launch.TARGETS.items():
        params = {"connector_id": str(uuid.uuid4()), "trigger": "api"}
        target = build(SubmittedRequest(uuid.uuid4(), kind, {}, params, "tenant/thing"))
        job = defs.resolve_job_def(target.job)
        assert defs.resolve_sensor_def(target.sensor).job_name == target.job, kind
        assert dg.validate_run_config(job, target.run_config), kind
        partitions = job.partitions_def
        assert (partitions.name if partitions else None) == target.partitions, kind


async def test_a_new_connectors_first_pull_is_launched_in_its_readable_partition(
    live_client: httpx.AsyncClient,
    workspace: WorkspaceProcessContext,
    app_settings: Settings,
    database_url: str,
    pg_source_url: str,  # noqa: F811
) -> None:
    instance = workspace.instance
    owner = await register_tenant(live_client, "direct-pull")
    body = {
        "name": "pg",
        "connector_type": "postgresql",
        "vertical": f"v_{uuid.uuid4().hex[:6]}",
        "entity_type": "row",
        "connection_config": {"dsn": pg_source_url},
        "query": "SELECT 1 AS id",
    }
    created = await live_client.post("/api/v1/connectors", json=body, headers=owner.headers)
    assert created.status_code == 201, created.text
    connector_id = created.json()["id"]
    key = f"{owner.name}/pg"
    # registered a moment ago: no sensor has added its partition
    assert key not in instance.get_dynamic_partitions(CONNECTOR_PARTITIONS.name)
    with _launching_to(app_settings, workspace) as webserver:
        queued = await live_client.post(
            f"/api/v1/connectors/{connector_id}/pull?wait=false", headers=owner.headers
        )
        assert queued.status_code == 202, queued.text
        request_id = queued.json()["request_id"]
        runs = _runs_of(instance, request_id)
    assert len(runs) == 1, webserver.received
    assert len(webserver.received) == 1  # the partition and the run in one round trip
    assert key in instance.get_dynamic_partitions(CONNECTOR_PARTITIONS.name)
    run = runs[0]
    assert run.job_name == "connector_pull_job"
    assert run.run_config == pull_run_config(request_id, "api")
    assert run.tags["dagster/partition"] == key  # readable: tenant name/connector name
    assert run.tags[CONNECTOR_TAG] == connector_id and run.tags[TRIGGER_TAG] == "api"
    assert run.tags[REQUEST_TAG] == request_id and run.tags[KIND_TAG] == "pull"
    assert run.tags["dagster/run_key"] == request_id
    assert run.tags["dagster/sensor_name"] == "pull_request_sensor"
    result = _tick(instance, "pull_request_sensor", database_url)
    assert all(r.run_key != request_id for r in (result.run_requests or []))


async def test_the_api_launches_a_reindex_in_its_collections_partition_and_the_sensor_starts_no_second(
    live_client: httpx.AsyncClient,
    workspace: WorkspaceProcessContext,
    app_settings: Settings,
    database_url: str,
) -> None:
    instance = workspace.instance
    owner = await register_tenant(live_client, "direct-reindex")
    uploaded = await live_client.post(
        "/api/v1/ingest/tools/file?entity_type=tool",
        files={"file": ("tools.csv", b"name,price\nhammer,9\n")},
        headers=owner.headers,
    )
    assert uploaded.status_code == 200, uploaded.text
    key = f"{owner.name}/tools"
    # as if the upload's report had not reached Dagster (its storage down for a moment) and no
    # reindex_request_sensor tick had added the partition since: the reindex comes first
    if key in instance.get_dynamic_partitions(COLLECTION_PARTITIONS.name):
        instance.delete_dynamic_partition(COLLECTION_PARTITIONS.name, key)
    with _launching_to(app_settings, workspace) as webserver:
        queued = await live_client.post("/api/v1/admin/reindex/tools", headers=owner.headers)
        assert queued.status_code == 200, queued.text
        request_id = queued.json()["request_id"]
        runs = _runs_of(instance, request_id)
    assert len(runs) == 1, webserver.received
    assert key in instance.get_dynamic_partitions(COLLECTION_PARTITIONS.name)
    run = runs[0]
    assert run.job_name == "reindex_collection_job"
    assert run.run_config == reindex_run_config(request_id)
    assert run.tags["dagster/partition"] == key
    assert run.tags[REQUEST_TAG] == request_id and run.tags[KIND_TAG] == "reindex"
    assert run.tags[TENANT_TAG] == owner.tenant_id and run.tags["kariz/area"] == "ingestion"
    assert run.tags["dagster/run_key"] == request_id
    assert run.tags["dagster/sensor_name"] == "reindex_request_sensor"
    # the row is still queued, yet the next tick (no grace: its settings have no dagster_url) asks
    # for no second run
    result = _tick(instance, "reindex_request_sensor", database_url)
    assert all(r.run_key != request_id for r in (result.run_requests or []))
    status = await live_client.get(f"/api/v1/requests/{request_id}", headers=owner.headers)
    assert status.json()["status"] == "queued"


async def test_an_upload_launches_its_collections_embedding_run_and_the_sensor_starts_no_second(
    live_client: httpx.AsyncClient,
    workspace: WorkspaceProcessContext,
    app_settings: Settings,
    database_url: str,
    sync_engine,
) -> None:
    instance = workspace.instance
    owner = await register_tenant(live_client, "direct-embed")
    with _launching_to(app_settings, workspace) as webserver:
        uploaded = await live_client.post(
            "/api/v1/ingest/parts/file?entity_type=part",
            files={"file": ("parts.csv", b"name,price\nM8 bolt,1\nM10 nut,2\n")},
            headers=owner.headers,
        )
        assert uploaded.status_code == 200, uploaded.text
        with Session(sync_engine) as session:
            collection_id = str(
                session.scalar(
                    sa.select(Collection.id).where(
                        Collection.tenant_id == uuid.UUID(owner.tenant_id), Collection.name == "parts"
                    )
                )
            )
        runs = _runs_tagged(instance, {COLLECTION_TAG: collection_id})
        # the same file again changes nothing, so it launches nothing
        again = await live_client.post(
            "/api/v1/ingest/parts/file?entity_type=part",
            files={"file": ("parts.csv", b"name,price\nM8 bolt,1\nM10 nut,2\n")},
            headers=owner.headers,
        )
        assert again.status_code == 200 and again.json()["summary"]["accepted"] == 0, again.text
        time.sleep(0.5)
    assert len(runs) == 1, webserver.received
    assert len(webserver.received) == 1
    run = runs[0]
    assert run.job_name == "embed_collection_job"
    assert run.run_config == embed_run_config(owner.tenant_id, collection_id)
    assert run.tags[TENANT_TAG] == owner.tenant_id
    assert run.tags["dagster/run_key"].startswith(f"embed:{collection_id}:")
    assert run.tags["dagster/sensor_name"] == "embedding_sensor"
    # the records are still pending (the run has not started), yet the next tick asks for no run
    result = _tick(instance, "embedding_sensor", database_url)
    assert all(r.tags.get(COLLECTION_TAG) != collection_id for r in (result.run_requests or []))


def test_only_committed_requests_are_launched(app_settings: Settings, sync_engine, live_tenant_id) -> None:
    with _launching_to(app_settings, None) as webserver:
        with Session(sync_engine) as session:
            submit_request(session, tenant_id=live_tenant_id, kind="housekeeping", params={"n": 1})
            session.rollback()  # never written: never launched, even when the session commits later
            committed = submit_request(
                session, tenant_id=live_tenant_id, kind="housekeeping", params={"n": 2}
            )
            session.commit()
            committed_id = str(committed.id)
        deadline = time.monotonic() + 10
        while not webserver.received and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # anything else would have arrived by now
    assert len(webserver.received) == 1
    params = webserver.received[0]["variables"]["params"]
    assert params["runConfigData"] == {
        "ops": {"tenant_housekeeping": {"config": {"request_id": committed_id}}}
    }


def test_a_young_row_is_left_to_the_api_only_while_direct_launch_is_on(
    app_settings: Settings, sync_engine, live_tenant_id
) -> None:
    with Session(sync_engine) as session:
        row = submit_request(session, tenant_id=live_tenant_id, kind="housekeeping", params={"n": 3})
        session.commit()
        created = row.created_at
    override_settings(app_settings.model_copy(update={"dagster_url": "http://127.0.0.1:9"}))
    assert left_to_api(row, created + dt.timedelta(seconds=1))
    assert not left_to_api(row, created + DIRECT_LAUNCH_GRACE + dt.timedelta(seconds=1))  # the fallback
    override_settings(app_settings)
    assert not left_to_api(row, created + dt.timedelta(seconds=1))


@pytest.fixture
def live_tenant_id(sync_engine) -> uuid.UUID:
    from core.tenants import service

    with Session(sync_engine) as session:
        tenant = service.create_tenant(session, f"direct-{uuid.uuid4().hex[:8]}", email="d@example.com")
        session.commit()
        return tenant.id
