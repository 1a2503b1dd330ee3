"""Which generation is live, as an operator reads it in Dagster: a replace and a swap through the API
are runless materializations of `collection_generation`, an auto-promotion is its run's own, each
with the metadata of what it did; and the collection's `one_active_generation` check passes after.
"""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
import httpx
import pytest
from sqlalchemy.orm import Session

from core import generations
from orchestration.resources import DatabaseResource
from tests.integration.conftest import TenantKey
from tests.integration.generations.conftest import Backend, vertical_name
from tests.integration.generations.seeding import (
    collection_id_of,
    csv_for,
    index_generation,
    rows_for,
    seed_live_vertical,
)
from tests.integration.generations.test_dagster import evaluate, run, staged
from tests.integration.orchestration.harness import materializations, run_checks, runless_instance

pytestmark = pytest.mark.parametrize("backend", ["pgvector"], indirect=True)  # both stores: test_replace_api


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with runless_instance() as test_instance:
        yield test_instance


def generation_events(instance: dg.DagsterInstance, partition: str) -> list[dg.EventLogRecord]:
    """Materializations of the collection's `collection_generation` partition, oldest first."""
    return list(reversed(materializations(instance, "collection_generation", partition)))


def values(record: dg.EventLogRecord) -> dict:
    return {k: v.value for k, v in record.asset_materialization.metadata.items()}


async def test_a_replace_and_a_swap_through_the_api_are_materializations_of_the_live_generation(
    portal: httpx.AsyncClient, owner: TenantKey, session: Session, backend: Backend,
    instance: dg.DagsterInstance, database_url: str,
) -> None:
    name = vertical_name()
    collection_id = seed_live_vertical(session, backend.index, owner.tenant_id, name, rows_for("blue", 5))
    partition = f"{owner.name}/{name}"
    started = await portal.post(f"/api/v1/portal/verticals/{name}/replace", params={"entity_type": "product"},
                                files={"file": ("green.csv", csv_for("green", 6), "text/csv")}, headers=owner.headers)
    assert started.status_code == 200, started.text
    [replace] = generation_events(instance, partition)
    meta = values(replace)
    assert (meta["operation"], meta["staging_generation"], meta["generation"], meta["staging_records"]) == (
        "replace", 2, 1, 6)
    assert meta["file_hash"] == started.json()["metadata"]["file_hash"]
    assert meta["collection_id"] == str(collection_id) and meta["tenant"] == owner.name
    assert replace.run_id == ""  # runless: the API reported it

    index_generation(session, backend.index, owner.tenant_id, name, 2)
    swapped = await portal.post(f"/api/v1/portal/verticals/{name}/swap", headers=owner.headers)
    assert swapped.status_code == 200, swapped.text
    [_, swap] = generation_events(instance, partition)
    meta = values(swap)
    assert (meta["operation"], meta["generation"], meta["previous_generation"]) == ("swap", 2, 1)
    assert (meta["active_records"], meta["previous_records"]) == (6, 5)
    assert meta["vector_collection"] and meta["swap_ms"] >= 0

    evaluation = run_checks(instance, DatabaseResource(url=database_url), partition)["one_active_generation"]
    assert evaluation.passed and evaluation.metadata["active_generation"].value == 2


def test_an_auto_promotion_is_a_materialization_of_its_run(
    session: Session, backend: Backend, instance: dg.DagsterInstance, database_url: str
) -> None:
    database = DatabaseResource(url=database_url)
    tenant_id, name, collection_id = staged(session, backend)
    generations.set_auto_promote(session, tenant_id, name, True)
    session.commit()
    assert collection_id_of(session, tenant_id, name) == collection_id
    [request] = [r for r in evaluate("auto_promote_sensor", instance, database)
                 if r.tags["kariz/collection"] == str(collection_id)]
    result = run("promote_generation_job", instance, database, request)
    assert result.success
    [record] = instance.fetch_materializations(dg.AssetKey("collection_generation"), limit=50).records[:1]
    meta = values(record)
    assert meta["collection_id"] == str(collection_id)
    assert (meta["operation"], meta["generation"], meta["previous_generation"]) == ("swap", 2, 1)
    assert (meta["active_records"], meta["previous_records"]) == (7, 6)
    assert record.run_id == result.run_id  # the promote run wrote it: the UI links the two
    assert record.asset_materialization.partition.endswith(f"/{name}")
    [check] = [e for e in result.get_asset_check_evaluations() if e.check_name == "one_active_generation"]
    assert check.passed and check.partition == record.asset_materialization.partition  # checked in the same run
