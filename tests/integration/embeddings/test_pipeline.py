"""The embedding pipeline on real PostgreSQL, the real local model and both vector backends:
pending -> processing -> indexed, payload filters, concurrent runs, staging generations, reindex,
hard texts."""

from __future__ import annotations

import threading

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from core import generations
from core.embeddings.local_minilm import LocalMiniLMProvider
from core.records.reindex import reindex_collection
from core.vectors.base import vector_alias_name, vector_collection_name
from core.vectors.filters import Match, Range, VectorFilter
from core.vectors.payloads import data_field
from tests.integration.embeddings.harness import Backend, embed, seed, statuses

CATALOG = [
    {"name": "Centrifugal water pump 2 kW", "category": "pumps", "price": 420, "in_stock": True},
    {"name": "Cordless drill 18 V with two batteries", "category": "tools", "price": 129.5, "in_stock": True},
    {"name": "Stainless steel hex bolt M8x40", "category": "fasteners", "price": 0.12, "in_stock": False},
    {"name": "LED ceiling lamp, warm white", "category": "lighting", "price": 35, "in_stock": True},
    {"name": "Garden hose 25 m, kink resistant", "category": "garden", "price": 22, "in_stock": True},
]


def test_pending_records_become_indexed_and_searchable_with_filters(
    backend: Backend, session: Session, sync_engine: sa.Engine, model: LocalMiniLMProvider
) -> None:
    seeded = seed(session, CATALOG)
    assert statuses(session, seeded.collection_id) == {"pending": 5}

    report = embed(sync_engine, seeded, model, backend.index, batch_size=2)

    assert (report.claimed, report.indexed, report.failed, report.stopped) == (5, 5, 0, None)
    assert statuses(session, seeded.collection_id) == {"indexed": 5}
    assert report.counts[1]["indexed"] == 5 and report.counts[1]["queue_depth"] == 0
    target = vector_collection_name(seeded.tenant_id, seeded.collection_id, 1)
    assert backend.index.count(target) == 5
    # the active generation's alias now reaches it
    assert backend.index.resolve_alias(vector_alias_name(seeded.tenant_id, seeded.collection_id)) == target

    query = model.embed_one("something to water the plants in the garden")
    [best] = backend.index.search(target, query, limit=1)
    payload = backend.index.payloads(target, [best.id])[best.id]
    assert payload["data"]["category"] == "garden"
    assert payload["tenant_id"] == str(seeded.tenant_id) and payload["generation"] == 1

    # payload filters work inside the vector search
    cheap_in_stock = VectorFilter((Range(data_field("price"), lt=100), Match(data_field("in_stock"), True)))
    hits = backend.index.search(target, query, limit=10, filter=cheap_in_stock)
    categories = {
        p["data"]["category"] for p in backend.index.payloads(target, [h.id for h in hits]).values()
    }
    assert categories == {"lighting", "garden"}

    # nothing left: a second run claims nothing
    assert embed(sync_engine, seeded, model, backend.index).claimed == 0


def test_concurrent_runs_never_embed_a_record_twice(
    backend: Backend, session: Session, sync_engine: sa.Engine, model: LocalMiniLMProvider
) -> None:
    rows = [{"name": f"part {i}", "family": f"family {i % 7}"} for i in range(120)]
    seeded = seed(session, rows)
    reports = []

    def worker() -> None:
        reports.append(embed(sync_engine, seeded, model, backend.index, batch_size=8))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sum(r.claimed for r in reports) == 120  # SKIP LOCKED: every record claimed exactly once
    assert sum(r.indexed for r in reports) == 120
    assert statuses(session, seeded.collection_id) == {"indexed": 120}
    assert backend.index.count(vector_collection_name(seeded.tenant_id, seeded.collection_id, 1)) == 120


def test_staging_generation_is_embedded_into_its_own_collection_without_moving_the_alias(
    backend: Backend, session: Session, sync_engine: sa.Engine, model: LocalMiniLMProvider
) -> None:
    seeded = seed(session, CATALOG)
    embed(sync_engine, seeded, model, backend.index)
    generations.start_replace(
        session,
        tenant_id=seeded.tenant_id,
        collection_name=seeded.name,
        data=b"name,category\nsolar panel 400 W,energy\nwind turbine 1 kW,energy\n",
        filename="green.csv",
        entity_type="product",
        index=backend.index,
        dimension=model.dimension,
    )
    assert generations.replace_status(session, seeded.tenant_id, seeded.name).ready_to_swap is False

    report = embed(sync_engine, seeded, model, backend.index)

    assert report.generations == [1, 2] and report.indexed == 2
    status = generations.replace_status(session, seeded.tenant_id, seeded.name)
    session.commit()
    assert (status.counts["indexed"], status.ready_to_swap) == (2, True)
    alias = vector_alias_name(seeded.tenant_id, seeded.collection_id)
    assert backend.index.resolve_alias(alias) == vector_collection_name(
        seeded.tenant_id, seeded.collection_id, 1
    )
    assert backend.index.count(vector_collection_name(seeded.tenant_id, seeded.collection_id, 2)) == 2
    # the swap the pipeline made possible
    generations.swap(session, seeded.tenant_id, seeded.name, backend.index)
    assert backend.index.resolve_alias(alias) == vector_collection_name(
        seeded.tenant_id, seeded.collection_id, 2
    )


def test_reindexed_records_are_embedded_again(
    backend: Backend, session: Session, sync_engine: sa.Engine, model: LocalMiniLMProvider
) -> None:
    seeded = seed(session, CATALOG)
    embed(sync_engine, seeded, model, backend.index)
    assert reindex_collection(session, seeded.tenant_id, seeded.collection_id) == 5
    session.commit()
    assert statuses(session, seeded.collection_id) == {"pending": 5}

    report = embed(sync_engine, seeded, model, backend.index)

    assert report.indexed == 5
    assert statuses(session, seeded.collection_id) == {"indexed": 5}
    assert backend.index.count(vector_collection_name(seeded.tenant_id, seeded.collection_id, 1)) == 5


def test_empty_very_long_and_non_latin_texts_are_indexed(
    backend: Backend, session: Session, sync_engine: sa.Engine, model: LocalMiniLMProvider
) -> None:
    shared = "pump " * 2000  # far past the model's 256 word pieces
    rows = [
        {"name": "long one", "description": shared + "tail A that the model never sees"},
        {"name": "long one", "description": shared + "tail B that the model never sees"},
        {"name": "Насос для воды", "kind": "насос"},
        {"name": "پمپ آب", "kind": "پمپ"},
        {"name": "水泵", "kind": "泵"},
        {"name": "ポンプ 🚰", "kind": "ポンプ"},
        {"name": "will be emptied"},
    ]
    seeded = seed(session, rows)
    # a record with no text at all (no name, type, description or fields)
    session.execute(
        sa.text(
            "UPDATE records SET name = '', record_type = '', description_llm = NULL, collection_data = '{}' "
            "WHERE collection_id = :c AND name = 'will be emptied'"
        ),
        {"c": seeded.collection_id},
    )
    session.commit()

    report = embed(sync_engine, seeded, model, backend.index)

    assert (report.indexed, report.failed) == (7, 0)
    assert statuses(session, seeded.collection_id) == {"indexed": 7}
    target = vector_collection_name(seeded.tenant_id, seeded.collection_id, 1)
    # truncation is deterministic: the two long records differ only past the cut, so their vectors match
    hits = backend.index.search(target, model.embed_one("long one " + shared), limit=2)
    assert len(hits) == 2
    assert np.isclose(hits[0].score, hits[1].score, atol=1e-6)
    # non-Latin scripts land somewhere sensible: the Russian query finds the Russian record first
    [best] = backend.index.search(target, model.embed_one("Насос для воды"), limit=1)
    assert backend.index.payloads(target, [best.id])[best.id]["data"]["kind"] == "насос"
