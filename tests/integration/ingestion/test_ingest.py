"""File and record ingestion into the real PostgreSQL: every format, every bad input, dedup, atomicity."""

from __future__ import annotations

import codecs
import json
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.errors import InvalidInput, NotFound, PayloadTooLarge, ValidationFailed
from core.ingestion import ingest_file, ingest_records
from core.records import reindex_collection, reindex_record
from core.tenants.service import create_tenant
from tests.integration.ingestion.rendering import rendered
from tests.unit.ingestion.samples import BILLION_LAUGHS_XML, PRODUCTS_XML, XXE_XML, text_pdf

CSV = (
    "part_number,name,material,price_eur,in_stock,released\n"
    "SS-M8-40-A2,Stainless Steel Hex Head Bolt M8x40 ISO 4017,Stainless Steel A2,0.12,true,2026-03-05\n"
    "W-M8,Washer M8 DIN 125,Zinc,0.01,false,2025-01-01\n"
)


@pytest.fixture
def tenant_id(db: Session) -> uuid.UUID:
    return create_tenant(db, f"ingest-{uuid.uuid4().hex[:8]}").id


def _records(db: Session, tenant_id: uuid.UUID, collection: str = "manufacturing") -> list[sa.Row]:
    return db.execute(
        sa.text(
            "SELECT r.name, r.record_type, r.collection_data, r.identifiers, r.search_text::text AS tsv, r.status, "
            "r.embedding_status, r.source_type, r.source_name, r.generation FROM records r "
            "JOIN collections c ON c.id = r.collection_id WHERE c.tenant_id = :t AND c.name = :n ORDER BY r.name"
        ),
        {"t": tenant_id, "n": collection},
    ).all()


def _ingest(db: Session, tenant_id: uuid.UUID, data: bytes, filename: str, **kw):
    return ingest_file(
        db,
        tenant_id=tenant_id,
        collection_name=kw.pop("collection", "manufacturing"),
        data=data,
        filename=filename,
        entity_type=kw.pop("entity_type", "fastener"),
        **kw,
    )


def test_csv_lands_typed_searchable_pending_and_in_a_new_active_generation(db: Session, tenant_id) -> None:
    result = _ingest(db, tenant_id, CSV.encode(), "catalog.csv", source_name="catalog-q2")
    body = rendered(result)
    assert body["status"] == "processing"
    assert body["summary"] == {"submitted": 2, "accepted": 2, "rejected": 0, "dedup_skipped": 0, "inserted": 2, "updated": 0, "unchanged": 0, "archived": 0, "replaced_in_file": 0, "replaced": []}
    assert body["errors"] == []
    assert body["metadata"]["file_hash"].startswith("sha256:") and len(body["metadata"]["file_hash"]) == 71
    assert body["metadata"]["reconciliation_passed"] is True
    assert body["metadata"]["pipeline_backpressure"] is False
    uuid.UUID(body["ingestion_id"])
    bolt, washer = _records(db, tenant_id)
    assert bolt.name == "Stainless Steel Hex Head Bolt M8x40 ISO 4017"
    assert bolt.collection_data == {
        "part_number": "SS-M8-40-A2",
        "material": "Stainless Steel A2",
        "price_eur": 0.12,
        "in_stock": True,
        "released": "2026-03-05",
    }
    assert "SSM840A2" in bolt.identifiers and "ISO4017" in bolt.identifiers
    assert "'bolt':" in bolt.tsv and "'ssm840a2':" in bolt.tsv
    assert (bolt.status, bolt.embedding_status, bolt.source_type, bolt.source_name, bolt.record_type) == (
        "active",
        "pending",
        "file_upload",
        "catalog-q2",
        "fastener",
    )
    generation = db.execute(
        sa.text(
            "SELECT g.number, g.status, g.record_count FROM generations g JOIN collections c ON c.id = g.collection_id "
            "WHERE c.tenant_id = :t"
        ),
        {"t": tenant_id},
    ).one()
    assert tuple(generation) == (1, "active", 2)
    fields = db.execute(
        sa.text("SELECT field, kind FROM collection_fields WHERE collection_id = :c ORDER BY 1"),
        {"c": result.collection_id},
    ).all()
    assert [tuple(f) for f in fields] == [
        ("in_stock", "boolean"),
        ("material", "string"),
        ("part_number", "string"),
        ("price_eur", "number"),
        ("released", "date"),
    ]
    logged = db.execute(
        sa.text("SELECT status, accepted, file_hash FROM ingestions WHERE id = :i"),
        {"i": result.ingestion_id},
    ).one()
    assert tuple(logged) == ("processing", 2, body["metadata"]["file_hash"])


def test_reuploading_the_same_file_changes_nothing_and_says_so(db: Session, tenant_id) -> None:
    first = _ingest(db, tenant_id, CSV.encode(), "catalog.csv")
    before = _records(db, tenant_id)
    again = _ingest(db, tenant_id, CSV.encode(), "catalog.csv")
    assert rendered(again)["summary"] == {"submitted": 2, "accepted": 0, "rejected": 0, "dedup_skipped": 2, "inserted": 0, "updated": 0, "unchanged": 2, "archived": 0, "replaced_in_file": 0, "replaced": []}
    assert again.status == "completed"
    assert again.file_hash == first.file_hash
    assert _records(db, tenant_id) == before


def test_duplicate_rows_inside_one_file_land_once(db: Session, tenant_id) -> None:
    lines = CSV.splitlines()
    result = _ingest(db, tenant_id, "\n".join([*lines, lines[1], lines[1]]).encode(), "dups.csv")
    assert (result.accepted, result.dedup_skipped) == (2, 2)


def test_malformed_csv_rows_are_rejected_with_their_lines(db: Session, tenant_id) -> None:
    text = (
        CSV
        + 'X-1,Broken "quote" row\nY-2,Nut M8,Steel,0.02,true,2025-01-01,extra\nZ-3,,Steel,1,true,2025-01-01\n'
    )
    result = _ingest(db, tenant_id, text.encode(), "bad.csv")
    assert rendered(result)["summary"] == {"submitted": 5, "accepted": 2, "rejected": 3, "dedup_skipped": 0, "inserted": 2, "updated": 0, "unchanged": 0, "archived": 0, "replaced_in_file": 0, "replaced": []}
    assert [(e["line"], e["field"]) for e in result.errors] == [(4, None), (5, None), (6, "name")]
    assert len(_records(db, tenant_id)) == 2


@pytest.mark.parametrize(
    ("filename", "payload", "kw"),
    [
        (
            "items.json",
            json.dumps(
                [
                    {"title": "Hex Nut M8", "sku": "HN-M8", "price": 0.03},
                    {"title": "Threaded Rod M8", "sku": "TR-M8-1000", "price": 2.5},
                ]
            ).encode(),
            {},
        ),
        (
            "items.ndjson",
            b'{"title": "Hex Nut M8", "sku": "HN-M8", "price": 0.03}\n'
            b'{"title": "Threaded Rod M8", "sku": "TR-M8-1000", "price": 2.5}\n',
            {},
        ),
        (
            "items.xml",
            b"<items><item><title>Hex Nut M8</title><sku>HN-M8</sku><price>0.03</price></item>"
            b"<item><title>Threaded Rod M8</title><sku>TR-M8-1000</sku><price>2.5</price></item></items>",
            {"record_tag": "item"},
        ),
        (
            "items.csv",
            codecs.BOM_UTF16_LE
            + "title,sku,price\nHex Nut M8,HN-M8,0.03\nThreaded Rod M8,TR-M8-1000,2.5\n".encode("utf-16-le"),
            {},
        ),
    ],
)
def test_every_structured_format_gives_the_same_records(
    db: Session, tenant_id, filename, payload, kw
) -> None:
    result = _ingest(db, tenant_id, payload, filename, **kw)
    assert (result.accepted, result.rejected) == (2, 0)
    rows = _records(db, tenant_id)
    assert [(r.name, r.collection_data) for r in rows] == [
        ("Hex Nut M8", {"sku": "HN-M8", "price": 0.03}),
        ("Threaded Rod M8", {"sku": "TR-M8-1000", "price": 2.5}),
    ]


def test_latin1_csv_keeps_its_accents(db: Session, tenant_id) -> None:
    text = "name,city\nSchraube Müller,Köln\nÉcrou crème,Besançon\n"
    result = _ingest(db, tenant_id, text.encode("latin-1"), "latin.csv")
    assert result.accepted == 2 and result.encoding == "cp1252"
    assert [(r.name, r.collection_data["city"]) for r in _records(db, tenant_id)] == [
        ("Schraube Müller", "Köln"),
        ("Écrou crème", "Besançon"),
    ]


def test_xml_with_attributes_and_namespaces(db: Session, tenant_id) -> None:
    result = _ingest(db, tenant_id, PRODUCTS_XML, "catalog.xml", record_tag="product")
    assert result.accepted == 2 and result.file_format == "xml"
    bolt = _records(db, tenant_id)[0]
    assert bolt.collection_data == {
        "sku": "SS-M8-40-A2",
        "price": 0.12,
        "in_stock": True,
        "tags": {"tag": ["bolt", "stainless"]},
    }


def test_pdf_pages_become_records(db: Session, tenant_id) -> None:
    pdf = text_pdf(["Hex bolts ISO 4017 in stainless steel", "Washers DIN 125"])
    result = _ingest(db, tenant_id, pdf, "catalog.pdf", entity_type="document")
    assert result.accepted == 2 and result.file_format == "pdf"
    rows = _records(db, tenant_id)
    assert [r.name for r in rows] == ["catalog.pdf (page 1)", "catalog.pdf (page 2)"]
    assert rows[0].collection_data["text"] == "Hex bolts ISO 4017 in stainless steel"
    assert "ISO4017" in rows[0].identifiers


@pytest.mark.parametrize(
    ("filename", "payload", "kw", "error", "message"),
    [
        ("xxe.xml", XXE_XML, {"record_tag": "item"}, InvalidInput, "XML refused"),
        ("lol.xml", BILLION_LAUGHS_XML, {"record_tag": "item"}, InvalidInput, "XML refused"),
        ("fake.pdf", b"name,price\nBolt,1\n", {}, InvalidInput, "not a PDF"),
        ("broken.json", b'[{"name": "A"}, {"name": ', {}, InvalidInput, "invalid JSON at line 1"),
        ("big.csv", b"name\n" + b"x" * 2000, {"max_bytes": 1000}, PayloadTooLarge, "limit is 1000 bytes"),
        ("ok.csv", CSV.encode(), {"entity_type": ""}, ValidationFailed, "entity_type is required"),
        ("ok.csv", CSV.encode(), {"collection": "no spaces allowed"}, InvalidInput, "collection names"),
        ("ok.csv", CSV.encode(), {"name_column": "nope"}, InvalidInput, "name_column 'nope'"),
    ],
)
def test_bad_files_are_refused_and_leave_the_collection_as_it_was(
    db: Session, tenant_id, filename, payload, kw, error, message
) -> None:
    _ingest(db, tenant_id, CSV.encode(), "first.csv")
    before = _records(db, tenant_id)
    with pytest.raises(error, match=message):
        _ingest(db, tenant_id, payload, filename, **kw)
    assert _records(db, tenant_id) == before


def test_the_upload_limit_comes_from_settings(db: Session, tenant_id, app_settings) -> None:
    big = b"name\n" + b"x\n" * (app_settings.max_upload_bytes // 2 + 1)
    with pytest.raises(PayloadTooLarge):
        _ingest(db, tenant_id, big, "huge.csv")


def test_a_file_failing_halfway_leaves_earlier_chunks_out_too(db: Session, tenant_id, monkeypatch) -> None:
    import core.ingestion.threaded_write as threaded_write

    _ingest(db, tenant_id, CSV.encode(), "first.csv")
    before = _records(db, tenant_id)
    monkeypatch.setattr(threaded_write, "CHUNK_ROWS", 2)
    rows = "".join(f'{{"name": "Item {i}", "n": {i}}},\n' for i in range(10))
    broken = f'[\n{rows}{{"name": oops}}]'.encode()  # invalid after five chunks were written
    with pytest.raises(InvalidInput, match="invalid JSON at line 12"):
        _ingest(db, tenant_id, broken, "late-failure.json")
    assert _records(db, tenant_id) == before


def test_a_database_error_rolls_back_the_whole_file(db: Session, tenant_id) -> None:
    _ingest(db, tenant_id, CSV.encode(), "first.csv")
    before = _records(db, tenant_id)
    with pytest.raises(ValidationFailed):
        ingest_records(
            db,
            tenant_id=tenant_id,
            collection_name="manufacturing",
            entity_type="x" * 101,
            records=[{"name": "A"}],
        )
    assert _records(db, tenant_id) == before


def test_records_structured_or_flat_and_their_rejections(db: Session, tenant_id) -> None:
    result = ingest_records(
        db,
        tenant_id=tenant_id,
        collection_name="docs",
        entity_type="note",
        records=[
            {
                "name": "Structured",
                "collection_data": {"a": 1},
                "description_llm": "described",
                "record_type": "memo",
            },
            {"name": "Flat", "b": True},
            {"collection_data": {"a": 2}},
            "not an object",
            {"name": "Bad\x00name"},
        ],
    )
    assert rendered(result)["summary"] == {"submitted": 5, "accepted": 2, "rejected": 3, "dedup_skipped": 0, "inserted": 2, "updated": 0, "unchanged": 0, "archived": 0, "replaced_in_file": 0, "replaced": []}
    assert [e["line"] for e in result.errors] == [3, 4, 5]
    rows = _records(db, tenant_id, "docs")
    assert [(r.name, r.record_type, r.collection_data, r.source_type) for r in rows] == [
        ("Flat", "note", {"b": True}, "api"),
        ("Structured", "memo", {"a": 1}, "api"),
    ]


def test_unknown_collection_without_create_is_not_found(db: Session, tenant_id) -> None:
    with pytest.raises(NotFound):
        ingest_records(
            db,
            tenant_id=tenant_id,
            collection_name="missing",
            entity_type="x",
            records=[{"name": "A"}],
            create_collection=False,
        )


def test_a_staging_generation_receives_records_beside_the_active_one(db: Session, tenant_id) -> None:
    first = _ingest(db, tenant_id, CSV.encode(), "v1.csv")
    db.execute(
        sa.text(
            "INSERT INTO generations (id, tenant_id, collection_id, number, status) "
            "VALUES (:id, :t, :c, 2, 'staging')"
        ),
        {"id": uuid.uuid4(), "t": tenant_id, "c": first.collection_id},
    )
    staged = _ingest(db, tenant_id, CSV.encode(), "v2.csv", generation=2)
    assert (staged.generation, staged.accepted, staged.dedup_skipped) == (2, 2, 0)  # dedup is per generation
    assert sorted(r.generation for r in _records(db, tenant_id)) == [1, 1, 2, 2]
    with pytest.raises(NotFound):
        _ingest(db, tenant_id, CSV.encode(), "v3.csv", generation=7)


def test_collections_of_another_tenant_are_never_touched(db: Session, tenant_id) -> None:
    other = create_tenant(db, f"other-{uuid.uuid4().hex[:8]}").id
    _ingest(db, other, CSV.encode(), "theirs.csv")
    mine = _ingest(db, tenant_id, CSV.encode(), "mine.csv")
    assert mine.accepted == 2  # same content, other tenant: no dedup across tenants
    with pytest.raises(NotFound):
        reindex_collection(db, tenant_id, _ingest(db, other, CSV.encode(), "again.csv").collection_id)


def test_reindex_rebuilds_search_text_and_queues_embedding(db: Session, tenant_id) -> None:
    result = _ingest(db, tenant_id, CSV.encode(), "catalog.csv")
    db.execute(
        sa.text(
            "UPDATE records SET search_text = NULL, identifiers = '{}', embedding_status = 'indexed' "
            "WHERE collection_id = :c"
        ),
        {"c": result.collection_id},
    )
    assert reindex_collection(db, tenant_id, result.collection_id) == 2
    rows = _records(db, tenant_id)
    assert all(r.tsv and r.identifiers and r.embedding_status == "pending" for r in rows)
    record_id = db.execute(
        sa.text("SELECT id FROM records WHERE collection_id = :c LIMIT 1"), {"c": result.collection_id}
    ).scalar_one()
    db.execute(sa.text("UPDATE records SET embedding_status = 'indexed' WHERE id = :i"), {"i": record_id})
    assert reindex_record(db, tenant_id, record_id) == result.collection_id
    assert (
        db.execute(sa.text("SELECT embedding_status FROM records WHERE id = :i"), {"i": record_id}).scalar()
        == "pending"
    )
    with pytest.raises(NotFound):
        reindex_record(db, create_tenant(db, f"x-{uuid.uuid4().hex[:6]}").id, record_id)


def test_a_path_on_disk_is_read_like_an_upload(db: Session, tenant_id, tmp_path: Path) -> None:
    path = tmp_path / "landing.csv"
    path.write_text(CSV)
    result = ingest_file(
        db,
        tenant_id=tenant_id,
        collection_name="manufacturing",
        data=path,
        entity_type="fastener",
        source_type="landing_zone",
    )
    assert result.accepted == 2
    assert {r.source_name for r in _records(db, tenant_id)} == {"landing.csv"}
