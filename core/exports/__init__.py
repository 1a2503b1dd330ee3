"""Asynchronous exports: stream a collection's records to CSV or JSON files, and expire them."""

from core.exports.expiry import EXPIRED, EXPORT_KIND, ExpiryReport, expire_exports, expires_at
from core.exports.formats import ExportFormat, parse_format, parse_record_status
from core.exports.ids import export_id, parse_export_id
from core.exports.queries import BASE_COLUMN_NAMES
from core.exports.requests import (
    ExportExpired,
    ExportFile,
    ExportNotReady,
    active_exports,
    execute_export_request,
    export_file,
    get_export,
    public_status,
    start_export,
)
from core.exports.stream import ExportResult, ProgressCallback, export_path, resolve_path, run_export

__all__ = [
    "ExportExpired",
    "ExportFile",
    "ExportNotReady",
    "active_exports",
    "execute_export_request",
    "export_file",
    "get_export",
    "public_status",
    "resolve_path",
    "start_export",
    "BASE_COLUMN_NAMES",
    "EXPIRED",
    "EXPORT_KIND",
    "ExpiryReport",
    "ExportFormat",
    "ExportResult",
    "ProgressCallback",
    "expire_exports",
    "export_id",
    "export_path",
    "expires_at",
    "parse_export_id",
    "parse_format",
    "parse_record_status",
    "run_export",
]
