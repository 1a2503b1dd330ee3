"""Record keys on the real PostgreSQL: updates replace in place, unchanged rows are skipped, the last row
of a key wins, soft and mirror deletes archive, a collection remembers its key."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

import core.ingestion.threaded_write as threaded_write
from core.errors import Conflict, ValidationFailed
from core.ingestion import ingest_file, ingest_records
from core.tenants.service import create_tenant
from tests.integration.ingestion.rendering import rendered

HEADER = "part_number,title,price,stock\n"


@pytest.fixture
def tenant_id(db: Session) -> uuid.UUID:
    return create_tenant(db, f"keys-{uuid.uuid4().hex[:8]}").id


def _csv(db: Session, tenant_id: uuid.UUID, body: str, **kw):
    return ingest_file(
        db,
        tenant_id=tenant_id,
        collection_name=kw.pop("collection", "catalog"),
        data=(HEADER + body).encode(),
        filename="parts.csv",
        entity_type="part",
        name_column="title",
        **kw,
    )


def _rows(db: Session, tenant_id: uuid.UUID, collection: str = "catalog") -> dict[str, sa.Row]:
    rows = db.execute(
        sa.text(
            "SELECT r.id, r.record_key, r.name, r.collection_data, r.status, r.embedding_status, r.content_hash, "
            "r.updated_at, r.search_text::text AS tsv, r.identifiers FROM records r JOIN collections c "
            "ON c.id = r.collection_id WHERE c.tenant_id = :t AND c.name = :n"
        ),
        {"t": tenant_id, "n": collection},
    ).all()
    return {r.record_key: r for r in rows}


def _active(db: Session, tenant_id: uuid.UUID) -> dict[str, float]:
    return {k: r.collection_data["price"] for k, r in _rows(db, tenant_id).items() if r.status == "active"}


def test_a_changed_row_updates_its_record_in_place_and_unchanged_rows_are_skipped(db: Session, tenant_id) -> None:
    first = _csv(db, tenant_id, "PG-0001-Z,Gasket Z,23.98,5\nPG-0002-Z,Gasket Y,9.50,1\n", key_column="part_number")
    assert (first.inserted, first.updated, first.unchanged) == (2, 0, 0)
    db.execute(sa.text("UPDATE records SET embedding_status = 'indexed'"))
    before = _rows(db, tenant_id)

    second = _csv(db, tenant_id, "PG-0001-Z,Gasket Z,24.98,5\nPG-0002-Z,Gasket Y,9.50,1\nPG-0003-Z,Gasket X,1,0\n")
    summary = rendered(second)["summary"]
    assert {k: summary[k] for k in ("inserted", "updated", "unchanged", "accepted", "dedup_skipped")} == {
        "inserted": 1, "updated": 1, "unchanged": 1, "accepted": 2, "dedup_skipped": 1,
    }
    assert rendered(second)["metadata"]["record_key"] == ["part_number"]  # remembered from the first upload
    after = _rows(db, tenant_id)
    changed = after["PG-0001-Z"]
    assert changed.id == before["PG-0001-Z"].id  # the same record, not a second copy
    assert changed.collection_data["price"] == 24.98
    assert changed.content_hash != before["PG-0001-Z"].content_hash
    assert changed.updated_at > before["PG-0001-Z"].updated_at
    assert changed.embedding_status == "pending"  # its vector is rebuilt
    assert "24.98" in changed.tsv and "23.98" not in changed.tsv
    untouched = after["PG-0002-Z"]
    assert (untouched.embedding_status, untouched.updated_at) == ("indexed", before["PG-0002-Z"].updated_at)
    assert _active(db, tenant_id) == {"PG-0001-Z": 24.98, "PG-0002-Z": 9.5, "PG-0003-Z": 1}


def test_the_last_row_of_a_key_wins_and_earlier_ones_are_reported_with_their_lines(db: Session, tenant_id) -> None:
    result = _csv(
        db, tenant_id, "A-1,Bolt,1,1\nB-2,Nut,2,2\nA-1,Bolt,1.5,1\nA-1,Bolt,1.75,1\n", key_column="part_number"
    )
    assert (result.inserted, result.replaced_in_file, result.submitted) == (2, 2, 4)
    assert rendered(result)["summary"]["replaced"] == [
        {"line": 2, "replaced_by_line": 4, "key": "A-1"},
        {"line": 4, "replaced_by_line": 5, "key": "A-1"},
    ]
    assert result.reconciliation_passed
    assert _active(db, tenant_id) == {"A-1": 1.75, "B-2": 2}


def test_last_wins_across_write_chunks(db: Session, tenant_id, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threaded_write, "CHUNK_ROWS", 2)
    body = "".join(f"K-{i},Part {i},{i},1\n" for i in range(5)) + "K-0,Part 0,100,1\nK-4,Part 4,400,1\n"
    result = _csv(db, tenant_id, body, key_column="part_number")
    assert (result.inserted, result.updated, result.unchanged, result.replaced_in_file) == (5, 0, 0, 2)
    assert _active(db, tenant_id) == {"K-0": 100, "K-1": 1, "K-2": 2, "K-3": 3, "K-4": 400}


def test_rows_without_a_key_are_rejected_with_their_lines(db: Session, tenant_id) -> None:
    result = _csv(db, tenant_id, "A-1,Bolt,1,1\n,Nut,2,2\n", key_column="part_number")
    assert (result.inserted, result.rejected) == (1, 1)
    assert result.errors == [
        {"line": 3, "field": "part_number", "reason": "key field 'part_number' is missing or empty"}
    ]


def test_a_key_that_is_not_scalar_is_422_and_writes_nothing(db: Session, tenant_id) -> None:
    rows = [{"sku": "A", "title": "a"}, {"sku": {"nested": 1}, "title": "b"}]
    with pytest.raises(ValidationFailed, match="line 2: key field 'sku' holds a dict"):
        ingest_records(db, tenant_id=tenant_id, collection_name="catalog", records=rows, entity_type="part",
                       key_column="sku")
    assert _rows(db, tenant_id) == {}


def test_another_key_is_409_and_a_bad_key_column_422(db: Session, tenant_id) -> None:
    _csv(db, tenant_id, "A-1,Bolt,1,1\n", key_column="part_number")
    with pytest.raises(Conflict, match="keyed by part_number"):
        _csv(db, tenant_id, "A-1,Bolt,1,1\n", key_column="title")
    with pytest.raises(ValidationFailed):
        ingest_records(db, tenant_id=tenant_id, collection_name="x", records=[{"a": 1}], entity_type="p",
                       key_column={"a": 1})  # type: ignore[arg-type]


def test_mirror_archives_absent_keys_and_soft_deletes_archive_theirs(db: Session, tenant_id) -> None:
    _csv(db, tenant_id, "A-1,Bolt,1,1\nB-2,Nut,2,2\nC-3,Washer,3,3\n", key_column="part_number")
    mirror = _csv(db, tenant_id, "A-1,Bolt,1,1\nC-3,Washer,3.5,3\n", mode="mirror")
    assert (mirror.unchanged, mirror.updated, mirror.archived) == (1, 1, 1)
    rows = _rows(db, tenant_id)
    assert rows["B-2"].status == "archived" and rows["B-2"].embedding_status == "pending"  # its vector goes
    assert _active(db, tenant_id) == {"A-1": 1, "C-3": 3.5}

    deletes = ingest_records(
        db, tenant_id=tenant_id, collection_name="catalog", entity_type="part", name_column="title",
        records=[{"part_number": "A-1", "title": "Bolt", "price": 1, "deleted": "2026-12-01T10:00:00Z"},
                 {"part_number": "C-3", "title": "Washer", "price": 3.5, "deleted": False}],
        deleted_column="deleted",
    )
    assert (deletes.archived, deletes.accepted) == (1, 1)  # C-3 gains the `deleted` field: an update
    assert _active(db, tenant_id) == {"C-3": 3.5}

    back = _csv(db, tenant_id, "B-2,Nut,2,2\n")  # a key that comes back revives its own record
    assert back.inserted == 1
    assert _rows(db, tenant_id)["B-2"].id == rows["B-2"].id and _rows(db, tenant_id)["B-2"].status == "active"


def test_a_key_set_on_an_existing_collection_keeps_one_active_copy(db: Session, tenant_id) -> None:
    _csv(db, tenant_id, "PG-1,Gasket,23.98,1\n")
    _csv(db, tenant_id, "PG-1,Gasket,24.98,1\n")  # no key yet: content-hash dedup keeps both prices
    assert set(_rows(db, tenant_id)) == {None}  # neither record has a key yet
    keyed = _csv(db, tenant_id, "PG-1,Gasket,25.98,1\n", key_column="part_number")
    assert keyed.updated == 1
    active = [r for r in db.execute(sa.text(
        "SELECT r.collection_data->>'price' AS price FROM records r JOIN collections c ON c.id = r.collection_id "
        "WHERE c.tenant_id = :t AND r.status = 'active'"), {"t": tenant_id})]
    assert [r.price for r in active] == ["25.98"]


def test_mirror_without_a_key_is_422(db: Session, tenant_id) -> None:
    with pytest.raises(ValidationFailed, match="need a record key"):
        _csv(db, tenant_id, "A-1,Bolt,1,1\n", mode="mirror")
