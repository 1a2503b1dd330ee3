"""Export files past retention are deleted and their requests marked expired."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from core.db.models import Tenant, WorkRequest
from core.exports import EXPIRED, EXPORT_KIND, expire_exports, expires_at, run_export
from tests.integration.exports.export_seed import add_records, make_collection

NOW = datetime(2030, 1, 10, 12, 0, tzinfo=UTC)


def finished_export(db: Session, tenant: Tenant, export_dir: Path, finished_at: datetime) -> WorkRequest:
    request = WorkRequest(tenant_id=tenant.id, kind=EXPORT_KIND, status="running", params={})
    db.add(request)
    db.flush()
    result = run_export(
        db, tenant_id=tenant.id, collection="kept", format="csv", request_id=request.id, export_dir=export_dir
    )
    request.status = "succeeded"
    request.result = result.as_request_result()
    request.finished_at = finished_at
    request.expires_at = expires_at(finished_at, retention_hours=24)
    db.flush()
    return request


def test_expiry_deletes_old_files_marks_requests_and_keeps_fresh_ones(
    db: Session, tenant: Tenant, tmp_path: Path
) -> None:
    add_records(db, make_collection(db, tenant, "kept"), [("a", {"x": 1}), ("b", {"x": 2})])
    old = finished_export(db, tenant, tmp_path, NOW - timedelta(hours=30))
    fresh = finished_export(db, tenant, tmp_path, NOW - timedelta(hours=1))
    old_path, fresh_path = Path(old.result["path"]), Path(fresh.result["path"])
    # the file's own age follows its request's, as a real run would leave it
    os.utime(old_path, ((NOW - timedelta(hours=30)).timestamp(),) * 2)
    os.utime(fresh_path, ((NOW - timedelta(hours=1)).timestamp(),) * 2)
    crashed = tmp_path / str(tenant.id) / ".exp_deadbeef.csv.part"
    crashed.write_bytes(b"half a file")
    os.utime(crashed, ((NOW - timedelta(hours=48)).timestamp(),) * 2)
    outsider = tmp_path.parent / f"{tmp_path.name}-outside.csv"
    outsider.write_text("not ours")

    report = expire_exports(db, export_dir=tmp_path, retention_hours=24, now=NOW)
    db.refresh(old)
    db.refresh(fresh)

    assert old.status == EXPIRED and not old_path.exists()
    assert fresh.status == "succeeded" and fresh_path.exists()
    assert not crashed.exists() and outsider.exists()
    assert report.files_deleted == 2
    # the sweep is global: other tenants' due exports (committed by other tests) may expire too
    assert old.id in report.expired_ids and fresh.id not in report.expired_ids


def test_a_file_older_than_retention_expires_its_request_even_before_expires_at(
    db: Session, tenant: Tenant, tmp_path: Path
) -> None:
    add_records(db, make_collection(db, tenant, "kept"), [("a", {"x": 1})])
    request = finished_export(db, tenant, tmp_path, NOW - timedelta(hours=1))
    path = Path(request.result["path"])
    os.utime(path, ((NOW - timedelta(hours=3)).timestamp(),) * 2)  # retention was shortened to 2 h

    report = expire_exports(db, export_dir=tmp_path, retention_hours=2, now=NOW)
    db.refresh(request)

    assert request.status == EXPIRED and not path.exists()
    assert request.id in report.expired_ids
