"""The Dagster side: pending work -> embedding_sensor -> embed_collection_job (in process), the
re-embed backfill of `collection_embeddings` partitions, and the vector-count asset check.

The first test is the issue's "done when": a file ingested through the API is searchable by meaning
with no manual step in between (the sensor's run request is executed in process, as the daemon would).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import dagster as dg
import httpx
import pytest
import pytest_asyncio
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.orm import Session

from api.app import create_app
from assets.collection_checks import no_stale_pending_embeddings, vectors_match_indexed_records
from assets.embeddings import COLLECTION_PARTITIONS, collection_embeddings
from core.collections import events
from core.db.embedded import ensure_database
from core.db.engine import make_sync_engine
from core.db.migrate import upgrade
from core.settings import Settings, get_settings
from core.vectors.base import vector_collection_name
from core.vectors.factory import get_vector_index
from orchestration.definitions import defs
from orchestration.embeddings import embed_run_config, embed_run_key
from orchestration.requests import COLLECTION_TAG, TENANT_TAG
from orchestration.resources import DatabaseResource, SettingsResource
from tests.integration.conftest import TenantKey, register_tenant, serve_in_loop
from tests.integration.embeddings.harness import Backend, Seeded, seed, statuses
from tests.integration.landing.dagster_ticks import run, tick
from tests.integration.orchestration.harness import materializations, metadata, run_checks

CSV = (
    b"name,description,price\n"
    b"Cordless angle grinder,Battery powered grinder for cutting metal and tiles,89\n"
    b"Espresso machine,Makes strong Italian coffee with a steam wand for milk,240\n"
    b"Down sleeping bag,Keeps you warm on winter camping trips down to minus ten,150\n"
    b"Hydraulic car jack,Lifts vehicles for tyre changes in the garage,60\n"
)


class ChosenSettings(SettingsResource):
    """The settings the test chose (`get_settings()` answers the override)."""

    def get(self) -> Settings:
        return get_settings()


def repository() -> dg.RepositoryDefinition:
    return defs.get_repository_def()


def sensor_result(instance: dg.DagsterInstance, database: DatabaseResource) -> dg.SensorResult:
    sensor = repository().get_sensor_def("embedding_sensor")
    return sensor(dg.build_sensor_context(instance=instance, resources={"database": database}))


def ours(result: dg.SensorResult, collection_id: uuid.UUID) -> list[dg.RunRequest]:
    return [r for r in result.run_requests or [] if r.tags.get(COLLECTION_TAG) == str(collection_id)]


def execute(request: dg.RunRequest, instance: dg.DagsterInstance, database: DatabaseResource):
    return (
        repository()
        .get_job("embed_collection_job")
        .execute_in_process(
            run_config=request.run_config,
            tags=request.tags,
            instance=instance,
            resources={"database": database, "settings": ChosenSettings()},
            raise_on_error=False,
        )
    )


def op_metadata(result: dg.ExecuteInProcessResult) -> dict:
    [event] = [e for e in result.events_for_node("embed_collection") if e.event_type_value == "STEP_OUTPUT"]
    return {k: v.value for k, v in event.event_specific_data.metadata.items()}


@pytest_asyncio.fixture
async def api(async_engine: AsyncEngine, backend: Backend) -> AsyncIterator[httpx.AsyncClient]:
    """The live API (committing) on the chosen vector backend."""
    app = create_app(
        backend.settings, session_factory=async_sessionmaker(async_engine, expire_on_commit=False)
    )
    async with serve_in_loop(app) as client:
        yield client


@pytest.mark.asyncio
async def test_an_ingested_file_is_searchable_by_meaning_with_no_manual_step(
    api: httpx.AsyncClient, backend: Backend, database_url: str
) -> None:
    owner: TenantKey = await register_tenant(api, "emb")
    collection = f"shop{uuid.uuid4().hex[:6]}"
    upload = await api.post(
        f"/api/v1/ingest/{collection}/file",
        params={"entity_type": "product"},
        files={"file": ("catalog.csv", CSV, "text/csv")},
        headers=owner.headers,
    )
    assert upload.status_code == 200, upload.text
    question = {"query": "something to brew a latte at home", "limit": 3}
    before = (await api.post(f"/api/v1/search/{collection}", json=question, headers=owner.headers)).json()
    assert before["results"] == []  # no shared word: full text alone finds nothing
    assert before["metadata"]["vector_fallback_reason"] == "not_indexed"

    database = DatabaseResource(url=database_url)
    with dg.instance_for_test() as instance:
        [request] = [
            r
            for r in sensor_result(instance, database).run_requests or []
            if r.tags[TENANT_TAG] == owner.tenant_id
        ]
        assert execute(request, instance, database).success

    after = (await api.post(f"/api/v1/search/{collection}", json=question, headers=owner.headers)).json()
    assert after["metadata"]["search_mode"] == "hybrid"
    assert after["metadata"]["vector_fallback_used"] is False
    assert after["results"][0]["name"] == "Espresso machine"
    assert 0 < after["results"][0]["score"] <= 1


@pytest.mark.parametrize("backend", ["pgvector"], indirect=True)
@pytest.mark.asyncio
async def test_an_upload_and_its_embedding_run_are_materializations_with_metadata_in_the_instance(
    api: httpx.AsyncClient, backend: Backend, database_url: str
) -> None:
    from api import asset_events

    owner: TenantKey = await register_tenant(api, "emb-e2e")
    collection = f"shop{uuid.uuid4().hex[:6]}"
    partition = f"{owner.name}/{collection}"
    database = DatabaseResource(url=database_url)
    with dg.instance_for_test() as instance:
        asset_events.use_instance(instance)
        try:
            upload = await api.post(f"/api/v1/ingest/{collection}/file", params={"entity_type": "product"},
                                    files={"file": ("catalog.csv", CSV, "text/csv")}, headers=owner.headers)
        finally:
            asset_events.use_instance(None)
        assert upload.status_code == 200, upload.text

        def latest(asset: str) -> tuple[dg.EventLogRecord, dict]:
            [record] = materializations(instance, asset, partition, limit=1)
            return record, metadata(record)

        record, meta = latest("collection_records")
        assert record.run_id == ""  # reported by the API, no run
        assert (meta["rows_accepted"], meta["active_records"], meta["source_type"]) == (4, 4, "file_upload")
        assert meta["ingestion_id"] == upload.json()["ingestion_id"]

        [request] = [r for r in sensor_result(instance, database).run_requests or []
                     if r.tags[TENANT_TAG] == owner.tenant_id]
        run = execute(request, instance, database)
        assert run.success
        record, meta = latest("collection_embeddings")
        assert record.run_id == run.run_id
        assert (meta["records_claimed"], meta["records_indexed"], meta["records_failed"]) == (4, 4, 0)
        assert (meta["active_records"], meta["embedded_records"], meta["embedded_percent"]) == (4, 4, 100.0)
        assert meta["collection"] == collection and meta["tenant"] == owner.name


def test_sensor_asks_one_run_per_collection_with_work_and_never_two_at_once(
    backend: Backend, session: Session, database_url: str
) -> None:
    first = seed(session, [{"name": "brass fitting"}, {"name": "copper pipe"}])
    second = seed(session, [{"name": "ceramic tile"}], tenant_id=first.tenant_id)
    database = DatabaseResource(url=database_url)
    with dg.instance_for_test() as instance:
        result = sensor_result(instance, database)
        [run_a] = ours(result, first.collection_id)
        [run_b] = ours(result, second.collection_id)
        assert run_a.tags[TENANT_TAG] == str(first.tenant_id) == run_b.tags[TENANT_TAG]
        assert run_a.run_key.startswith(f"embed:{first.collection_id}:")
        assert run_a.run_config == embed_run_config(first.tenant_id, first.collection_id)

        # a run of the first collection is on its way: the sensor does not ask for another
        job = repository().get_job("embed_collection_job")
        instance.create_run_for_job(job, run_config=run_a.run_config, tags=run_a.tags)
        again = sensor_result(instance, database)
        assert ours(again, first.collection_id) == []
        assert len(ours(again, second.collection_id)) == 1


def test_the_run_reports_what_it_did_and_the_queue(
    backend: Backend, session: Session, database_url: str
) -> None:
    seeded = seed(session, [{"name": f"fuse {i}", "amps": i} for i in range(10)])
    database = DatabaseResource(url=database_url)
    request = dg.RunRequest(
        run_key=embed_run_key(seeded.collection_id),
        run_config=embed_run_config(seeded.tenant_id, seeded.collection_id, batch_size=4),
        tags={TENANT_TAG: str(seeded.tenant_id), COLLECTION_TAG: str(seeded.collection_id)},
    )
    with dg.instance_for_test() as instance:
        result = execute(request, instance, database)
        assert result.success
        meta = op_metadata(result)
        assert (meta["records_claimed"], meta["records_indexed"], meta["records_failed"]) == (10, 10, 0)
        assert meta["texts_per_s"] > 0
        assert (meta["queue_pending"], meta["queue_processing"], meta["queue_indexed"], meta["queue_depth"]) == (
            0,
            0,
            10,
            0,
        )
        assert statuses(session, seeded.collection_id) == {"indexed": 10}
        # the run is a materialization of collection_embeddings for the readable partition
        key = partition_of(database, seeded)
        assert key.endswith(f"/{seeded.name}") and str(seeded.collection_id) not in key
        [record] = materializations(instance, "collection_embeddings", key, limit=5)
        event = metadata(record)
        assert (event["records_indexed"], event["embedded_records"], event["embedded_percent"]) == (10, 10, 100.0)
        assert event["collection_id"] == str(seeded.collection_id)
        assert key in instance.get_dynamic_partitions(COLLECTION_PARTITIONS.name)


def test_an_unreachable_vector_store_fails_the_run_and_keeps_the_records(
    session: Session, database_url: str, app_settings: Settings
) -> None:
    from core.settings import override_settings

    seeded = seed(session, [{"name": "relay"}, {"name": "contactor"}])
    override_settings(
        app_settings.model_copy(update={"vector_backend": "qdrant", "qdrant_url": "http://127.0.0.1:9"})
    )
    request = dg.RunRequest(run_config=embed_run_config(seeded.tenant_id, seeded.collection_id))
    with dg.instance_for_test() as instance:
        result = execute(request, instance, DatabaseResource(url=database_url))
    assert not result.success  # red in the UI: the outage shows
    assert statuses(session, seeded.collection_id) == {"pending": 2}  # and nothing is lost


# --- the re-embed backfill and the asset check, on a database of their own -------------------------


@pytest.fixture(scope="module")
def own_database(pg_server_url: str) -> str:
    """A database holding only this section's collections (the check looks at every collection)."""
    url = ensure_database(pg_server_url, f"kariz_embcheck_{uuid.uuid4().hex[:8]}")
    upgrade(url)
    return url


@pytest.fixture
def own(own_database: str, app_settings: Settings) -> Iterator[tuple[Session, DatabaseResource]]:
    from core.settings import override_settings

    override_settings(
        app_settings.model_copy(update={"database_url": own_database, "vector_backend": "pgvector"})
    )
    engine = make_sync_engine(own_database)
    with Session(engine, expire_on_commit=False) as s:
        yield s, DatabaseResource(url=own_database)
    engine.dispose()


def partition_of(database: DatabaseResource, seeded: Seeded) -> str:
    """The readable partition of the seeded collection: `<tenant name>/<collection>`."""
    with database.session() as s:
        return events.names_of(s, seeded.collection_id).partition


def materialize_reembed(seeded: Seeded, instance: dg.DagsterInstance, database: DatabaseResource):
    """What a backfill of one partition runs: the asset, then its check."""
    key = partition_of(database, seeded)
    instance.add_dynamic_partitions(COLLECTION_PARTITIONS.name, [key])
    return dg.materialize(
        [collection_embeddings, vectors_match_indexed_records, no_stale_pending_embeddings],
        partition_key=key,
        instance=instance,
        resources={"database": database, "settings": ChosenSettings()},
        raise_on_error=False,
    )


def check_result(result: dg.ExecuteInProcessResult) -> dg.AssetCheckEvaluation:
    [evaluation] = [e for e in result.get_asset_check_evaluations() if e.check_name == "vectors_match_indexed_records"]
    return evaluation


def test_backfilling_a_partition_re_embeds_the_collection_and_the_check_passes(
    own: tuple[Session, DatabaseResource],
) -> None:
    session, database = own
    seeded = seed(session, [{"name": f"sensor {i}"} for i in range(6)])
    with dg.instance_for_test() as instance:
        first = materialize_reembed(seeded, instance, database)
        second = materialize_reembed(seeded, instance, database)  # everything again: a re-embed
    assert first.success and second.success
    [materialization] = second.asset_materializations_for_node("collection_embeddings")
    meta = {k: v.value for k, v in materialization.metadata.items()}
    assert (meta["records_reset"], meta["records_indexed"], meta["queue_indexed"]) == (6, 6, 6)
    evaluation = check_result(second)
    assert evaluation.passed and evaluation.partition == partition_of(database, seeded)
    assert evaluation.metadata["mismatched"].value == 0
    assert all(e.passed for e in second.get_asset_check_evaluations())


def test_the_check_flags_a_collection_whose_vectors_disagree_with_its_indexed_records(
    own: tuple[Session, DatabaseResource],
) -> None:
    session, database = own
    seeded = seed(session, [{"name": f"switch {i}"} for i in range(5)])
    with dg.instance_for_test() as instance:
        assert materialize_reembed(seeded, instance, database).success
        # a vector goes missing behind PostgreSQL's back
        index = get_vector_index(get_settings(), database_url=database.url)
        target = vector_collection_name(seeded.tenant_id, seeded.collection_id, 1)
        [victim] = index.search(target, [1.0] + [0.0] * 383, limit=1)
        index.delete(target, [victim.id])
        evaluation = run_checks(instance, database, partition_of(database, seeded))["vectors_match_indexed_records"]
    assert not evaluation.passed
    [mismatch] = evaluation.metadata["generations"].value
    assert (mismatch["indexed_records"], mismatch["vectors"], mismatch["generation"]) == (5, 4, 1)
    count = session.execute(
        sa.text("SELECT count(*) FROM records WHERE collection_id = :c AND embedding_status = 'indexed'"),
        {"c": seeded.collection_id},
    ).scalar_one()
    assert count == 5


@pytest.mark.asyncio
async def test_admin_reindex_re_embeds_through_the_sensor(
    live_client: httpx.AsyncClient, session: Session, database_url: str
) -> None:
    owner = await register_tenant(live_client, "emb-reidx")
    collection = f"shop{uuid.uuid4().hex[:6]}"
    upload = await live_client.post(
        f"/api/v1/ingest/{collection}/file",
        params={"entity_type": "product"},
        files={"file": ("catalog.csv", CSV, "text/csv")},
        headers=owner.headers,
    )
    assert upload.status_code == 200, upload.text
    collection_id = session.execute(
        sa.text("SELECT id FROM collections WHERE tenant_id = :t AND name = :n"),
        {"t": uuid.UUID(owner.tenant_id), "n": collection},
    ).scalar_one()
    session.commit()
    database = DatabaseResource(url=database_url)

    def embed_pending(instance: dg.DagsterInstance) -> dict:
        [request] = ours(sensor_result(instance, database), collection_id)
        result = execute(request, instance, database)
        assert result.success
        return op_metadata(result)

    with dg.instance_for_test() as instance:
        assert embed_pending(instance)["records_indexed"] == 4
        assert ours(sensor_result(instance, database), collection_id) == []  # nothing pending now

        queued = await live_client.post(f"/api/v1/admin/reindex/{collection}", headers=owner.headers)
        assert queued.status_code == 200, queued.text
        [reindex] = [
            r
            for r in tick(instance, "reindex_request_sensor", database_url).run_requests
            if r.run_key == queued.json()["request_id"]
        ]
        assert run(instance, "reindex_collection_job", reindex, database_url).success
        assert statuses(session, collection_id) == {"pending": 4}

        # no manual step: the embedding sensor sees the reset records and re-embeds them
        again = embed_pending(instance)
    assert (again["records_claimed"], again["records_indexed"], again["queue_indexed"]) == (4, 4, 4)
    assert statuses(session, collection_id) == {"indexed": 4}
    answer = await live_client.post(
        f"/api/v1/search/{collection}",
        json={"query": "something to brew a latte at home"},
        headers=owner.headers,
    )
    assert answer.json()["results"][0]["name"] == "Espresso machine"
