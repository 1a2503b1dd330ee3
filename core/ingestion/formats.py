"""File formats: detect one from the name and the first bytes, and read the file into rows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from core.errors import InvalidInput
from core.ingestion.csv_rows import csv_rows
from core.ingestion.encoding import decode_text
from core.ingestion.json_rows import first_line_is_json, json_array_rows, ndjson_rows
from core.ingestion.pdf_rows import pdf_rows
from core.ingestion.rows import ParsedRow, RowError
from core.ingestion.xml_rows import xml_rows

FORMATS = ("csv", "json", "ndjson", "xml", "pdf")
_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".json": "json",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".xml": "xml",
    ".pdf": "pdf",
}


@dataclass(slots=True)
class ParsedSource:
    """A file read into rows: its format, the text encoding found, and the columns when it has a header."""

    format: str
    encoding: str | None
    rows: Iterator[ParsedRow | RowError]
    columns: list[str] = field(default_factory=list)


def detect_format(filename: str | None, head: bytes, declared: str | None = None) -> str:
    """One of csv, json, ndjson, xml, pdf: the declared format, else the extension, else the content.

    InvalidInput for an unknown declared format, and for a .pdf that is not a PDF."""
    if declared:
        fmt = declared.lower().strip()
        if fmt in ("jsonl",):
            fmt = "ndjson"
        if fmt not in FORMATS:
            raise InvalidInput(f"unknown file format '{declared}'; use one of {', '.join(FORMATS)}")
        return fmt
    name = (filename or "").lower()
    for ext, fmt in _EXTENSIONS.items():
        if name.endswith(ext):
            return fmt
    stripped = head.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n")
    if stripped.startswith(b"%PDF-"):
        return "pdf"
    if stripped.startswith(b"["):
        return "json"
    if stripped.startswith(b"{"):
        return "ndjson"
    if stripped.startswith(b"<"):
        return "xml"
    return "csv"


def parse_file(
    data: bytes, *, filename: str | None = None, file_format: str | None = None, record_tag: str | None = None
) -> ParsedSource:
    """Read a file into rows. Whole-file problems (not a PDF, malformed JSON array or XML, refused
    XML entities, no header) raise InvalidInput; problems of single rows come back as RowError."""
    fmt = detect_format(filename, data[:1024], file_format)
    if fmt == "pdf":
        return ParsedSource("pdf", None, pdf_rows(data, filename))
    text, encoding = decode_text(data)
    if not text.strip():
        raise InvalidInput("the file is empty")
    if fmt == "csv":
        columns, rows = csv_rows(text, filename=filename)
        return ParsedSource("csv", encoding, rows, columns)
    if fmt == "json" and text.lstrip().startswith("{"):
        fmt = "ndjson" if first_line_is_json(text) else "json"
        if fmt == "json":  # one pretty-printed object: a single record
            text = f"[{text}]"
    if fmt == "json":
        return ParsedSource("json", encoding, json_array_rows(text))
    if fmt == "ndjson":
        return ParsedSource("ndjson", encoding, ndjson_rows(text))
    return ParsedSource("xml", encoding, xml_rows(text, record_tag))
