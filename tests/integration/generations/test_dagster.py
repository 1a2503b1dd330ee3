"""The Dagster side: auto-promote through the same swap, record archiving after a swap, cleanup."""

from __future__ import annotations

import uuid

import dagster as dg
import sqlalchemy as sa
from sqlalchemy.orm import Session

from core import generations
from core.settings import override_settings
from core.tenants.service import create_tenant
from core.vectors.base import vector_alias_name, vector_collection_name
from orchestration.definitions import defs
from orchestration.generations import GENERATION_TAG, promote_run_key
from orchestration.resources import DatabaseResource, SettingsResource
from tests.integration.generations.conftest import Backend, vertical_name
from tests.integration.generations.seeding import (
    active_generation,
    csv_for,
    index_generation,
    rows_for,
    seed_live_vertical,
)


def staged(session: Session, backend: Backend, *, indexed: bool = True) -> tuple[uuid.UUID, str, uuid.UUID]:
    tenant = create_tenant(session, f"dg-{uuid.uuid4().hex[:8]}")
    session.commit()
    name = vertical_name()
    collection_id = seed_live_vertical(session, backend.index, tenant.id, name, rows_for("blue", 6))
    generations.start_replace(
        session,
        tenant_id=tenant.id,
        collection_name=name,
        data=csv_for("green", 7),
        filename="green.csv",
        entity_type="product",
        index=backend.index,
    )
    if indexed:
        index_generation(session, backend.index, tenant.id, name, 2)
    return tenant.id, name, collection_id


def evaluate(
    sensor_name: str, instance: dg.DagsterInstance, database: DatabaseResource
) -> list[dg.RunRequest]:
    sensor = defs.get_repository_def().get_sensor_def(sensor_name)
    result = sensor(dg.build_sensor_context(instance=instance, resources={"database": database}))
    return list(result.run_requests or [])


def run(
    job_name: str,
    instance: dg.DagsterInstance,
    database: DatabaseResource,
    request: dg.RunRequest | None = None,
):
    job = defs.get_repository_def().get_job(job_name)
    return job.execute_in_process(
        run_config=request.run_config if request else None,
        tags=request.tags if request else None,
        instance=instance,
        resources={"database": database, "settings": SettingsResource()},
    )


def metadata(result: dg.ExecuteInProcessResult, op: str) -> dict:
    [event] = [e for e in result.events_for_node(op) if e.event_type_value == "STEP_OUTPUT"]
    return {k: v.value for k, v in event.event_specific_data.metadata.items()}


def test_auto_promote_swaps_only_opted_in_ready_generations(
    session: Session, backend: Backend, database_url: str
) -> None:
    database = DatabaseResource(url=database_url)
    tenant_id, name, collection_id = staged(session, backend)
    waiting_tenant, waiting_name, waiting_id = staged(session, backend, indexed=False)
    opted_out = staged(session, backend)
    generations.set_auto_promote(session, tenant_id, name, True)
    generations.set_auto_promote(session, waiting_tenant, waiting_name, True)
    session.commit()

    with dg.instance_for_test() as instance:
        requests = evaluate("auto_promote_sensor", instance, database)
        keys = {r.run_key for r in requests}
        assert promote_run_key(collection_id, 2) in keys
        assert promote_run_key(waiting_id, 2) not in keys  # not indexed yet
        assert promote_run_key(opted_out[2], 2) not in keys  # auto_promote off (the default)
        [ours] = [r for r in requests if r.run_key == promote_run_key(collection_id, 2)]

        result = run("promote_generation_job", instance, database, ours)
        assert result.success
        meta = metadata(result, "promote_staging_generation")
        assert (meta["outcome"], meta["old_generation"], meta["new_generation"]) == ("swapped", 1, 2)
        assert (meta["old_entity_count"], meta["new_entity_count"]) == (6, 7)
        assert active_generation(session, collection_id) == 2
        alias = vector_alias_name(tenant_id, collection_id)
        assert backend.index.resolve_alias(alias) == vector_collection_name(tenant_id, collection_id, 2)

        # promoted once: the sensor no longer asks, and a replayed run skips without failing
        assert promote_run_key(collection_id, 2) not in {
            r.run_key for r in evaluate("auto_promote_sensor", instance, database)
        }
        again = run("promote_generation_job", instance, database, ours)
        assert again.success
        assert metadata(again, "promote_staging_generation")["outcome"] == "skipped"


def test_old_records_are_archived_after_a_swap_and_vectors_dropped_after_retention(
    session: Session, backend: Backend, database_url: str
) -> None:
    database = DatabaseResource(url=database_url)
    tenant_id, name, collection_id = staged(session, backend)
    generations.swap(session, tenant_id, name, backend.index)
    key = f"{collection_id}:1"

    with dg.instance_for_test() as instance:
        requests = [
            r for r in evaluate("archive_records_sensor", instance, database) if r.tags[GENERATION_TAG] == key
        ]
        assert len(requests) == 1
        result = run("archive_generation_records_job", instance, database, requests[0])
        assert result.success
        assert metadata(result, "archive_dead_generation_records")["records_archived"] == 6
        statuses = session.execute(
            sa.text(
                "SELECT generation, status, count(*) FROM records WHERE collection_id = :c GROUP BY 1, 2"
            ),
            {"c": collection_id},
        ).all()
        session.commit()
        assert sorted(statuses) == [(1, "archived", 6), (2, "active", 7)]
        assert all(
            r.tags[GENERATION_TAG] != key for r in evaluate("archive_records_sensor", instance, database)
        )

        old_vectors = vector_collection_name(tenant_id, collection_id, 1)
        # inside the retention the old generation's vectors stay (a pinned search may still read them)
        run("generation_cleanup_job", instance, database)
        assert backend.index.collection_exists(old_vectors)

        override_settings(backend.settings.model_copy(update={"generation_retention_hours": 0.0}))
        cleaned = run("generation_cleanup_job", instance, database)
        assert cleaned.success
        assert metadata(cleaned, "clean_up_generations")["vector_collections_dropped"] >= 1
        assert not backend.index.collection_exists(old_vectors)
        assert backend.index.collection_exists(vector_collection_name(tenant_id, collection_id, 2))
        dropped_at = session.execute(
            sa.text("SELECT vectors_dropped_at FROM generations WHERE collection_id = :c AND number = 1"),
            {"c": collection_id},
        ).scalar()
        session.commit()
        assert dropped_at is not None


def test_cleanup_reconciles_an_alias_left_pointing_at_the_wrong_generation(
    session: Session, backend: Backend, database_url: str
) -> None:
    database = DatabaseResource(url=database_url)
    tenant_id, name, collection_id = staged(session, backend)
    alias = vector_alias_name(tenant_id, collection_id)
    # what an interrupted swap on a non-transactional store leaves: the alias on staging, the database on 1
    backend.index.set_alias(alias, vector_collection_name(tenant_id, collection_id, 2))
    with dg.instance_for_test() as instance:
        result = run("generation_cleanup_job", instance, database)
    assert result.success
    assert metadata(result, "clean_up_generations")["aliases_reconciled"] >= 1
    assert backend.index.resolve_alias(alias) == vector_collection_name(tenant_id, collection_id, 1)
    assert active_generation(session, collection_id) == 1
