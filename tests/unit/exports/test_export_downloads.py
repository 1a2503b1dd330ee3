"""What a download of an export answers in each state, without a database."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from core.db.models import WorkRequest
from core.exports import ExportExpired, ExportNotReady, export_file, public_status


def request(status: str, result: dict | None = None, error: str | None = None) -> WorkRequest:
    return WorkRequest(
        id=uuid.uuid4(), tenant_id=uuid.uuid4(), kind="export", status=status, result=result, error=error
    )


def test_request_states_read_as_the_contracts_export_states() -> None:
    shown = {s: public_status(request(s)) for s in ("queued", "running", "succeeded", "failed", "expired")}
    assert shown == {
        "queued": "processing",
        "running": "processing",
        "succeeded": "completed",
        "failed": "failed",
        "expired": "expired",
    }


def test_only_a_completed_export_with_its_file_downloads(tmp_path: Path) -> None:
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "exp_1.csv").write_text("a\n")
    done = request("succeeded", {"path": "t/exp_1.csv", "format": "csv", "filename": "c-active-exp_1.csv"})
    found = export_file(done, tmp_path)
    assert (found.path, found.filename, found.size) == (
        (tmp_path / "t" / "exp_1.csv").resolve(),
        "c-active-exp_1.csv",
        2,
    )
    assert found.content_type == "text/csv; charset=utf-8"

    with pytest.raises(ExportNotReady, match="still processing"):
        export_file(request("running"), tmp_path)
    with pytest.raises(ExportNotReady, match="disk full"):
        export_file(request("failed", error="disk full"), tmp_path)
    with pytest.raises(ExportExpired):
        export_file(request("expired", {"path": "t/exp_1.csv"}), tmp_path)
    with pytest.raises(ExportExpired):  # the file went missing
        export_file(request("succeeded", {"path": "t/gone.csv", "format": "csv"}), tmp_path)
    with pytest.raises(ExportExpired):  # a stored path never leaves the export folder
        export_file(request("succeeded", {"path": "../../etc/passwd", "format": "csv"}), tmp_path)
