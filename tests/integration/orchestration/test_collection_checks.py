"""The collection checks an operator sees in the UI: they pass on a healthy collection and fail, for
that collection's partition only, on the damage each one guards against; the hourly schedule asks
one run per collection partition.

On a database of their own: one test breaks an invariant the schema enforces (two active
generations), by dropping the index that enforces it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from assets import collection_checks
from assets.embeddings import COLLECTION_PARTITIONS, collection_embeddings
from core.collections import events
from core.db.embedded import ensure_database
from core.db.engine import make_sync_engine
from core.db.migrate import upgrade
from core.settings import Settings, get_settings, override_settings
from core.vectors.base import vector_collection_name
from core.vectors.factory import get_vector_index
from orchestration.definitions import defs
from orchestration.resources import DatabaseResource
from tests.integration.embeddings.harness import Seeded, seed
from tests.integration.orchestration.harness import failing, resources, run_checks


@pytest.fixture(scope="module")
def own_database(pg_server_url: str) -> str:
    url = ensure_database(pg_server_url, f"kariz_checks_{uuid.uuid4().hex[:8]}")
    upgrade(url)
    return url


@pytest.fixture
def own(own_database: str, app_settings: Settings, tmp_path: Path) -> Iterator[tuple[Session, DatabaseResource]]:
    override_settings(app_settings.model_copy(update={
        "database_url": own_database, "vector_backend": "pgvector", "export_dir": tmp_path / "exports"}))
    engine = make_sync_engine(own_database)
    with Session(engine, expire_on_commit=False) as s:
        yield s, DatabaseResource(url=own_database)
    engine.dispose()


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as test_instance:
        yield test_instance


def partition_of(database: DatabaseResource, seeded: Seeded) -> str:
    with database.session() as s:
        return events.names_of(s, seeded.collection_id).partition


def embedded(session: Session, database: DatabaseResource, instance: dg.DagsterInstance, rows: int = 4
             ) -> tuple[Seeded, str, dg.ExecuteInProcessResult]:
    """A collection of `rows` records, embedded by a backfill of its `collection_embeddings` partition
    (which runs that asset's checks in the same run)."""
    seeded = seed(session, [{"name": f"valve {i}", "size": i} for i in range(rows)])
    key = partition_of(database, seeded)
    instance.add_dynamic_partitions(COLLECTION_PARTITIONS.name, [key])
    result = dg.materialize(
        [collection_embeddings, collection_checks.vectors_match_indexed_records,
         collection_checks.no_stale_pending_embeddings],
        partition_key=key, instance=instance, resources=resources(database), raise_on_error=False,
    )
    return seeded, key, result


def test_a_healthy_collection_passes_every_check_and_the_embedding_run_checked_itself(
    own: tuple[Session, DatabaseResource], instance: dg.DagsterInstance
) -> None:
    session, database = own
    seeded, key, result = embedded(session, database, instance)
    assert result.success
    in_run = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert set(in_run) == {"vectors_match_indexed_records", "no_stale_pending_embeddings"}
    assert all(e.passed and e.partition == key for e in in_run.values())

    evaluations = run_checks(instance, database, key)
    assert failing(evaluations) == set()
    vectors = evaluations["vectors_match_indexed_records"].metadata
    assert vectors["generations"].value == [{"generation": 1, "indexed_records": 4, "vectors": 4, "in_flight": False}]
    assert vectors["collection_id"].value == str(seeded.collection_id)
    assert evaluations["one_active_generation"].metadata["active_generation"].value == 1
    # Dagster keeps the latest result per partition: what the UI's check column shows
    record = instance.event_log_storage.get_asset_check_execution_history(
        dg.AssetCheckKey(dg.AssetKey("collection_embeddings"), "vectors_match_indexed_records"), limit=5)
    assert record and record[0].partition == key


def test_lost_vectors_and_stale_pending_records_fail_their_checks(
    own: tuple[Session, DatabaseResource], instance: dg.DagsterInstance
) -> None:
    session, database = own
    seeded, key, _ = embedded(session, database, instance, rows=5)
    healthy, healthy_key, _ = embedded(session, database, instance, rows=2)
    index = get_vector_index(get_settings(), database_url=database.url)
    target = vector_collection_name(seeded.tenant_id, seeded.collection_id, 1)
    [victim] = index.search(target, [1.0] + [0.0] * 383, limit=1)
    index.delete(target, [victim.id])  # a vector goes missing behind PostgreSQL's back

    evaluations = run_checks(instance, database, key)
    assert failing(evaluations) == {"vectors_match_indexed_records"}
    assert "5 indexed records, 4 vectors" in evaluations["vectors_match_indexed_records"].description
    assert failing(run_checks(instance, database, healthy_key)) == set()  # only the damaged partition fails

    # a record queued long ago that no run picked up
    session.execute(sa.text(
        "UPDATE records SET embedding_status = 'pending', created_at = now() - interval '2 hours', "
        "updated_at = now() - interval '2 hours' WHERE id = (SELECT id FROM records WHERE collection_id = :c "
        "AND embedding_status = 'indexed' LIMIT 1)"), {"c": seeded.collection_id})
    session.commit()
    evaluations = run_checks(instance, database, key)
    assert "no_stale_pending_embeddings" in failing(evaluations)
    stale = evaluations["no_stale_pending_embeddings"].metadata
    assert (stale["records_waiting"].value, stale["records_stale"].value) == (1, 1)

    # a record that just arrived waits, but not too long: passes
    seed(session, [{"name": "fresh valve"}], tenant_id=seeded.tenant_id, name=seeded.name)
    session.execute(sa.text("UPDATE records SET embedding_status = 'indexed', created_at = now(), updated_at = now() "
                            "WHERE collection_id = :c AND name <> 'fresh valve'"), {"c": seeded.collection_id})
    session.commit()
    pending = run_checks(instance, database, key)["no_stale_pending_embeddings"]
    assert pending.passed and pending.metadata["records_waiting"].value == 1


def test_two_active_generations_or_a_pointer_at_the_wrong_one_fail_one_active_generation(
    own: tuple[Session, DatabaseResource], instance: dg.DagsterInstance
) -> None:
    session, database = own
    seeded, key, _ = embedded(session, database, instance, rows=2)
    session.execute(sa.text("DROP INDEX IF EXISTS uq_generations_one_active"))
    session.execute(sa.text(
        "INSERT INTO generations (id, tenant_id, collection_id, number, status) VALUES (:id, :t, :c, 2, 'active')"),
        {"id": uuid.uuid4(), "t": seeded.tenant_id, "c": seeded.collection_id})
    session.commit()
    try:
        evaluation = run_checks(instance, database, key)["one_active_generation"]
        assert not evaluation.passed
        assert evaluation.metadata["active_generations"].value == [1, 2]
        assert "2 active generations" in evaluation.description

        session.execute(sa.text("UPDATE generations SET status = 'archived' WHERE collection_id = :c AND number = 1"),
                        {"c": seeded.collection_id})
        session.commit()
        evaluation = run_checks(instance, database, key)["one_active_generation"]
        assert not evaluation.passed  # the collection still reads generation 1
        assert "points at generation 1 but generation 2 is active" in evaluation.description
    finally:
        session.rollback()
        session.execute(sa.text("DELETE FROM generations WHERE collection_id = :c AND number = 2"),
                        {"c": seeded.collection_id})
        session.execute(sa.text("UPDATE generations SET status = 'active' WHERE collection_id = :c AND number = 1"),
                        {"c": seeded.collection_id})
        session.execute(sa.text("CREATE UNIQUE INDEX uq_generations_one_active ON generations (collection_id) "
                                "WHERE status = 'active'"))
        session.commit()


def test_a_failed_or_stuck_reindex_and_a_lost_export_file_fail_their_checks(
    own: tuple[Session, DatabaseResource], instance: dg.DagsterInstance
) -> None:
    session, database = own
    seeded, key, _ = embedded(session, database, instance, rows=2)

    def request(kind: str, status: str, *, age: timedelta = timedelta(0), **columns: object) -> uuid.UUID:
        request_id = uuid.uuid4()
        session.execute(sa.text(
            "INSERT INTO work_requests (id, tenant_id, kind, status, collection_id, created_at, finished_at, error, "
            "result, expires_at) VALUES (:id, :t, :k, :s, :c, now() - :age, :finished, :error, CAST(:result AS jsonb), "
            ":expires)"),
            {"id": request_id, "t": seeded.tenant_id, "k": kind, "s": status, "c": seeded.collection_id, "age": age,
             "finished": columns.get("finished"), "error": columns.get("error"), "result": columns.get("result"),
             "expires": columns.get("expires")})
        session.commit()
        return request_id

    request("reindex", "failed", age=timedelta(hours=3), error="reindex failed: OperationalError")
    evaluations = run_checks(instance, database, key)
    assert failing(evaluations) == {"search_text_rebuilt"}
    assert "OperationalError" in evaluations["search_text_rebuilt"].description

    request("reindex", "queued", age=timedelta(hours=2))  # nothing served it
    evaluation = run_checks(instance, database, key)["search_text_rebuilt"]
    assert not evaluation.passed and "still queued" in evaluation.description

    request("reindex", "succeeded", finished=datetime.now(UTC), result='{"records_reset": 2}')
    evaluation = run_checks(instance, database, key)["search_text_rebuilt"]
    assert evaluation.passed and evaluation.metadata["records_rebuilt"].value == 2

    export_dir = get_settings().export_dir
    export_dir.mkdir(parents=True, exist_ok=True)
    (export_dir / "kept.csv").write_text("name\nvalve\n")
    later = datetime.now(UTC) + timedelta(hours=1)
    request("export", "succeeded", result='{"path": "kept.csv"}', expires=later)
    request("export", "succeeded", result='{"path": "gone.csv"}', expires=later, age=timedelta(minutes=1))
    request("export", "succeeded", result='{"path": "old.csv"}', expires=datetime.now(UTC) - timedelta(hours=1))
    evaluation = run_checks(instance, database, key)["export_files_present"]
    assert not evaluation.passed
    assert (evaluation.metadata["unexpired_exports"].value, evaluation.metadata["files_missing"].value) == (2, 1)
    assert [m["path"] for m in evaluation.metadata["missing"].value] == ["gone.csv"]
    (export_dir / "gone.csv").write_text("name\n")
    assert run_checks(instance, database, key)["export_files_present"].passed


def test_the_hourly_schedule_asks_one_check_run_per_collection_partition(
    own: tuple[Session, DatabaseResource], instance: dg.DagsterInstance
) -> None:
    session, database = own
    _, key, _ = embedded(session, database, instance, rows=1)
    _, other_key, _ = embedded(session, database, instance, rows=1)
    schedule = defs.get_repository_def().get_schedule_def("collection_checks_schedule")
    requests = schedule.evaluate_tick(dg.build_schedule_context(
        instance=instance, scheduled_execution_time=datetime(2026, 12, 2, 19, 17, tzinfo=UTC))).run_requests
    by_partition = {r.tags["dagster/partition"]: r for r in requests}
    assert {key, other_key} <= set(by_partition)
    assert by_partition[key].run_key == f"checks:{key}:2026120219"
    assert failing(run_checks(instance, database, key)) == set()  # what that run does
