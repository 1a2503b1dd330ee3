"""Blue-green replace of a keyed vertical: replace-status and the swap say how many records the new
generation adds, changes and removes relative to the live one."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy.orm import Session

from core.ingestion.pipeline import ingest_records
from core.vectors.base import vector_alias_name, vector_collection_name
from tests.integration.conftest import TenantKey
from tests.integration.generations.conftest import Backend, vertical_name
from tests.integration.generations.seeding import index_generation


async def test_keyed_replace_reports_added_changed_and_removed(
    portal: httpx.AsyncClient, owner: TenantKey, session: Session, backend: Backend
) -> None:
    name = vertical_name()
    tenant_id = uuid.UUID(owner.tenant_id)
    live = [{"sku": f"K-{i}", "name": f"widget {i}", "price": i} for i in range(10)]
    result = ingest_records(session, tenant_id=tenant_id, collection_name=name, records=live,
                            entity_type="product", source_type="test", key_column="sku")
    session.commit()
    index_generation(session, backend.index, tenant_id, name, 1)
    backend.index.set_alias(vector_alias_name(tenant_id, result.collection_id),
                            vector_collection_name(tenant_id, result.collection_id, 1))

    lines = ["sku,name,price"] + [f"K-{i},widget {i},{i + (100 if i < 4 else 0)}" for i in range(8)]
    lines += ["K-10,widget 10,10", "K-11,widget 11,11"]
    started = await portal.post(f"/api/v1/portal/verticals/{name}/replace", params={"entity_type": "product"},
                                files={"file": ("next.csv", ("\n".join(lines) + "\n").encode(), "text/csv")},
                                headers=owner.headers)
    assert started.status_code == 200, started.text
    assert started.json()["metadata"]["record_key"] == ["sku"]  # the vertical's remembered key
    expected = {"added": 2, "changed": 4, "removed": 2}
    status = (await portal.get(f"/api/v1/portal/verticals/{name}/replace-status", headers=owner.headers)).json()
    assert status["record_changes"] == expected and status["total"] == 10

    index_generation(session, backend.index, tenant_id, name, 2)
    swapped = await portal.post(f"/api/v1/portal/verticals/{name}/swap", headers=owner.headers)
    assert swapped.status_code == 200, swapped.text
    assert swapped.json()["record_changes"] == expected
    assert (swapped.json()["old_entity_count"], swapped.json()["new_entity_count"]) == (10, 10)
