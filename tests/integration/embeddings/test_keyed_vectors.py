"""Vectors follow record identity, on both vector backends: an updated record is embedded again (its
point replaced, never a second one) and an archived record's point goes."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.embeddings.consistency import compare_vector_counts
from core.embeddings.local_minilm import LocalMiniLMProvider
from core.ingestion import ingest_records
from core.vectors.base import vector_collection_name
from tests.integration.embeddings.harness import Backend, Seeded, embed, new_tenant

ROWS = [
    {"sku": "P-1", "name": "Centrifugal water pump 2 kW", "price": 420},
    {"sku": "P-2", "name": "Cordless drill 18 V", "price": 129.5},
    {"sku": "P-3", "name": "Garden hose 25 m", "price": 22},
]


def test_updated_records_are_reembedded_and_archived_ones_lose_their_vectors(
    backend: Backend, session: Session, sync_engine: sa.Engine, model: LocalMiniLMProvider
) -> None:
    tenant_id = new_tenant(session)

    def ingest(rows: list[dict], **kw) -> Seeded:
        result = ingest_records(session, tenant_id=tenant_id, collection_name="tools", records=rows,
                                entity_type="product", name_column="name", key_column="sku", **kw)
        session.commit()
        return Seeded(tenant_id, result.collection_id, "tools")

    seeded = ingest(ROWS)
    assert embed(sync_engine, seeded, model, backend.index).indexed == 3
    target = vector_collection_name(tenant_id, seeded.collection_id, 1)
    ids = dict(session.execute(sa.text("SELECT record_key, id FROM records WHERE collection_id = :c"),
                               {"c": seeded.collection_id}).all())
    drill_before = backend.index.payloads(target, [ids["P-2"]])[ids["P-2"]]

    ingest([ROWS[0], {"sku": "P-2", "name": "Cordless drill 18 V", "price": 99}], mode="mirror")
    report = embed(sync_engine, seeded, model, backend.index)
    assert report.claimed == 2  # the changed drill, and the hose archived by the mirror
    assert backend.index.count(target) == 2  # the hose's point went; the drill's was replaced, not added
    drill_after = backend.index.payloads(target, [ids["P-2"]])[ids["P-2"]]
    assert (drill_before["data"]["price"], drill_after["data"]["price"]) == (129.5, 99)
    assert backend.index.payloads(target, [ids["P-3"]]) == {}
    [check] = compare_vector_counts(session, backend.index, collection_ids=[seeded.collection_id])
    assert check.consistent and check.vectors == 2
