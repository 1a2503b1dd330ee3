"""Export ids, formats, statuses and CSV column naming, without a database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.errors import InvalidInput, NotFound
from core.exports import (
    BASE_COLUMN_NAMES,
    ExportFormat,
    ExportResult,
    expires_at,
    export_id,
    export_path,
    parse_export_id,
    parse_format,
    parse_record_status,
)
from core.exports.queries import ExportScope, copy_json_lines, csv_header, csv_select


def test_export_ids_round_trip_and_garbage_is_not_found() -> None:
    request_id = uuid.uuid4()
    public = export_id(request_id)
    assert public == f"exp_{request_id.hex}"
    assert parse_export_id(public) == request_id
    for garbage in ("exp_nothex", str(request_id), "exp_", "abc_" + request_id.hex):
        with pytest.raises(NotFound):
            parse_export_id(garbage)


def test_formats_and_statuses_are_validated() -> None:
    assert parse_format("CSV") is ExportFormat.CSV
    assert parse_format("json").content_type == "application/json"
    assert ExportFormat.CSV.content_type == "text/csv; charset=utf-8"
    assert parse_record_status("Archived") == "archived"
    with pytest.raises(InvalidInput):
        parse_format("xlsx")
    with pytest.raises(InvalidInput):
        parse_record_status("deleted")


def test_csv_header_puts_base_columns_first_and_renames_clashing_keys() -> None:
    header = csv_header(["a", "name", "z"])
    assert header[: len(BASE_COLUMN_NAMES)] == list(BASE_COLUMN_NAMES)
    assert header[len(BASE_COLUMN_NAMES) :] == ["a", "collection_data.name", "z"]


def test_user_keys_reach_sql_only_as_quoted_literals() -> None:
    scope = ExportScope(uuid.uuid4(), uuid.uuid4(), "c", 3, "draft")
    text = csv_select(scope, ["x'); DROP TABLE records; --"]).as_string()
    assert "->> 'x''); DROP TABLE records; --'" in text
    assert "r.generation = 3" in text and "r.status = 'draft'" in text
    assert "QUOTE E'\\x01'" in copy_json_lines(csv_select(scope, [])).as_string()


def test_files_live_per_tenant_and_results_serialise_to_json() -> None:
    tenant = uuid.uuid4()
    path = export_path(Path("/exports"), tenant, "exp_1", ExportFormat.JSON)
    assert path == Path(f"/exports/{tenant}/exp_1.json")
    result = ExportResult(path, 3, 120, "application/json", "c-active-exp_1.json", "json", "c", "active", 11)
    assert result.as_request_result()["path"] == str(path)
    assert result.as_request_result()["rows"] == 3


def test_expiry_time_is_finish_time_plus_retention() -> None:
    finished = datetime(2030, 1, 1, tzinfo=UTC)
    assert expires_at(finished, retention_hours=1.5) == datetime(2030, 1, 1, 1, 30, tzinfo=UTC)
