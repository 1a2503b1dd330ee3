"""Exports stream a tenant's records from real PostgreSQL into CSV and JSON files."""

from __future__ import annotations

import csv
import json
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.db.models import Tenant
from core.errors import InvalidInput, NotFound
from core.exports import BASE_COLUMN_NAMES, export_id, run_export
from tests.integration.exports.export_seed import add_records, make_collection, make_tenant

TRICKY = 'quote " comma , backslash \\ newline\nand tab\t and ünïcødé ✓'


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        return header, [dict(zip(header, row, strict=True)) for row in reader]


@pytest.fixture
def catalog(db: Session, tenant: Tenant):
    """Generation 2 is active; generation 1, other statuses, collections and tenants must not leak."""
    manufacturing = make_collection(db, tenant, "manufacturing", active_generation=2)
    add_records(
        db,
        manufacturing,
        [
            ("Bolt M8", {"part_number": "SS-M8-40", "price_eur": 0.12, "in_stock": True, "dims": {"l": 40}}),
            ("Nut M8", {"part_number": "NUT-M8", "material": TRICKY, "tags": ["a", "b"]}),
            ("Washer", {"zeta": None}),
        ],
    )
    add_records(db, manufacturing, [("Old bolt", {"legacy_key": 1})], generation=1)
    add_records(db, manufacturing, [("Archived nut", {"archived_only": "x"})], status="archived")
    add_records(db, make_collection(db, tenant, "pharma"), [("Aspirin", {"atc": "N02BA01"})])
    stranger = make_tenant(db)
    add_records(db, make_collection(db, stranger, "manufacturing"), [("Foreign bolt", {"secret": 1})])
    return manufacturing


def test_csv_has_base_columns_then_sorted_key_union_and_only_the_scoped_rows(
    db: Session, tenant: Tenant, catalog, tmp_path: Path
) -> None:
    result = run_export(
        db, tenant_id=tenant.id, collection="manufacturing", format="csv", export_dir=tmp_path
    )

    header, rows = read_csv(result.path)
    assert header == [
        *BASE_COLUMN_NAMES,
        "dims",
        "in_stock",
        "material",
        "part_number",
        "price_eur",
        "tags",
        "zeta",
    ]
    assert header[:6] == ["record_id", "name", "record_type", "status", "source_type", "updated_at"]
    assert sorted(r["name"] for r in rows) == ["Bolt M8", "Nut M8", "Washer"]
    assert result.rows == 3 and result.columns == len(header)
    by_name = {r["name"]: r for r in rows}
    bolt = by_name["Bolt M8"]
    assert (bolt["part_number"], bolt["price_eur"], bolt["in_stock"]) == ("SS-M8-40", "0.12", "true")
    assert json.loads(bolt["dims"]) == {"l": 40}
    assert bolt["material"] == "" and bolt["status"] == "active" and bolt["record_type"] == "product"
    assert bolt["updated_at"].endswith("Z")
    assert by_name["Nut M8"]["material"] == TRICKY
    assert json.loads(by_name["Nut M8"]["tags"]) == ["a", "b"]
    assert by_name["Washer"]["zeta"] == ""
    assert result.bytes == result.path.stat().st_size
    assert result.content_type.startswith("text/csv") and result.filename.endswith(".csv")
    assert result.path.parent == tmp_path / str(tenant.id)


def test_json_is_one_array_with_collection_data_nested_byte_exact(
    db: Session, tenant: Tenant, catalog, tmp_path: Path
) -> None:
    request_id = uuid.uuid4()
    result = run_export(
        db,
        tenant_id=tenant.id,
        collection="manufacturing",
        format="json",
        request_id=request_id,
        export_dir=tmp_path,
    )

    data = json.loads(result.path.read_text(encoding="utf-8"))
    assert isinstance(data, list) and len(data) == result.rows == 3
    by_name = {item["name"]: item for item in data}
    assert by_name["Nut M8"]["collection_data"] == {
        "part_number": "NUT-M8",
        "material": TRICKY,
        "tags": ["a", "b"],
    }
    assert by_name["Bolt M8"]["collection_data"]["price_eur"] == 0.12
    assert by_name["Washer"]["collection_data"] == {"zeta": None}
    assert list(data[0]) == [*BASE_COLUMN_NAMES, "collection_data"]
    assert result.path.name == f"{export_id(request_id)}.json"
    assert result.content_type == "application/json"


def test_status_chooses_archived_records(db: Session, tenant: Tenant, catalog, tmp_path: Path) -> None:
    result = run_export(
        db,
        tenant_id=tenant.id,
        collection="manufacturing",
        format="csv",
        status="archived",
        export_dir=tmp_path,
    )
    header, rows = read_csv(result.path)
    assert [r["name"] for r in rows] == ["Archived nut"]
    assert header[len(BASE_COLUMN_NAMES) :] == ["archived_only"]


def test_empty_collection_writes_header_only_csv_and_empty_json_array(
    db: Session, tenant: Tenant, tmp_path: Path
) -> None:
    make_collection(db, tenant, "empty")
    csv_result = run_export(db, tenant_id=tenant.id, collection="empty", format="csv", export_dir=tmp_path)
    json_result = run_export(db, tenant_id=tenant.id, collection="empty", format="json", export_dir=tmp_path)
    assert read_csv(csv_result.path) == (list(BASE_COLUMN_NAMES), [])
    assert json.loads(json_result.path.read_text()) == []
    assert csv_result.rows == json_result.rows == 0


def test_a_key_named_like_a_base_column_gets_its_own_column(
    db: Session, tenant: Tenant, tmp_path: Path
) -> None:
    collection = make_collection(db, tenant, "clash")
    add_records(db, collection, [("Real name", {"name": "data name", "status": "in stock"})])
    result = run_export(db, tenant_id=tenant.id, collection="clash", format="csv", export_dir=tmp_path)
    header, rows = read_csv(result.path)
    assert header[len(BASE_COLUMN_NAMES) :] == ["collection_data.name", "collection_data.status"]
    assert rows[0]["name"] == "Real name" and rows[0]["collection_data.name"] == "data name"


def test_progress_is_reported_every_n_rows_and_at_the_end(
    db: Session, tenant: Tenant, tmp_path: Path
) -> None:
    collection = make_collection(db, tenant, "many")
    add_records(db, collection, [(f"item {i}", {"i": i}) for i in range(25)])
    calls: list[tuple[int, int]] = []
    run_export(
        db,
        tenant_id=tenant.id,
        collection="many",
        format="json",
        export_dir=tmp_path,
        progress=lambda rows, total: calls.append((rows, total)),
        progress_every=10,
    )
    assert calls == [(0, 25), (10, 25), (20, 25), (25, 25)]


def test_a_failed_export_leaves_no_file_behind(db: Session, tenant: Tenant, tmp_path: Path) -> None:
    collection = make_collection(db, tenant, "boom")
    add_records(db, collection, [(f"item {i}", {"i": i}) for i in range(5)])

    def explode(rows: int, total: int) -> None:
        if rows:  # mid-stream, with half a file written
            raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        run_export(
            db,
            tenant_id=tenant.id,
            collection="boom",
            format="csv",
            export_dir=tmp_path,
            progress=explode,
            progress_every=2,
        )
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_unknown_collection_bad_format_and_bad_status_are_refused(
    db: Session, tenant: Tenant, catalog, tmp_path: Path
) -> None:
    with pytest.raises(NotFound):
        run_export(db, tenant_id=tenant.id, collection="nope", export_dir=tmp_path)
    with pytest.raises(NotFound):  # another tenant's collection name is not ours
        run_export(db, tenant_id=uuid.uuid4(), collection="manufacturing", export_dir=tmp_path)
    with pytest.raises(InvalidInput):
        run_export(db, tenant_id=tenant.id, collection="manufacturing", format="xml", export_dir=tmp_path)
    with pytest.raises(InvalidInput):
        run_export(db, tenant_id=tenant.id, collection="manufacturing", status="deleted", export_dir=tmp_path)


def test_an_engine_source_reads_committed_rows_in_one_snapshot(
    sync_engine: sa.Engine, tmp_path: Path
) -> None:
    with Session(sync_engine) as session:
        tenant = make_tenant(session)
        add_records(
            session, make_collection(session, tenant, "committed"), [(f"row {i}", {"k": i}) for i in range(7)]
        )
        session.commit()
        tenant_id = tenant.id
    try:
        result = run_export(
            sync_engine, tenant_id=tenant_id, collection="committed", format="csv", export_dir=tmp_path
        )
        _, rows = read_csv(result.path)
        assert sorted(int(r["k"]) for r in rows) == list(range(7))
    finally:
        with Session(sync_engine) as session:
            session.delete(session.get(Tenant, tenant_id))
            session.commit()
