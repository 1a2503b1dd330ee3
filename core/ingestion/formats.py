"""File formats: one table `{format: FileFormat}`; detect a format from the name and the first bytes,
and read the file into rows. A new format is a reader module and one entry in `READERS`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from core.errors import InvalidInput
from core.ingestion.csv_rows import csv_rows
from core.ingestion.encoding import decode_text
from core.ingestion.json_rows import first_line_is_json, json_array_rows, ndjson_rows, one_record_or_wrapper
from core.ingestion.pdf_rows import pdf_rows
from core.ingestion.rows import ParsedRow, RowError
from core.ingestion.xml_rows import xml_rows


@dataclass(slots=True)
class ParsedSource:
    """A file read into rows: its format, the text encoding found, and the columns when it has a header."""

    format: str
    encoding: str | None
    rows: Iterator[ParsedRow | RowError]
    columns: list[str] = field(default_factory=list)


Reader = Callable[[bytes, str | None, str | None], ParsedSource]
"""`reader(data, filename, record_tag)`: the file's rows; InvalidInput when the whole file is unreadable."""


@dataclass(frozen=True, slots=True)
class FileFormat:
    """How a format is read, the file name endings that mean it, and the first bytes that betray it."""

    read: Reader
    extensions: tuple[str, ...]
    starts_with: tuple[bytes, ...] = ()


_BINARY_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"PK\x03\x04", "a ZIP archive (or an .xlsx/.docx, which are ZIP archives)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x7fELF", "an executable"),
    (b"\xd0\xcf\x11\xe0", "an old Office document"),
    (b"%PDF-", "a PDF"),
    (b"SQLite format 3\x00", "an SQLite database"),
)
_TEXT_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


def refuse_binary(data: bytes, fmt: str) -> None:
    """InvalidInput when a file meant as text (CSV, JSON, NDJSON, XML) is by its content something
    else: a known binary signature, or NUL bytes in its first 8 KB without a UTF-16/32 byte-order mark.
    (Signatures that could open a line of text, such as `MZ` or `BZh`, are left to the NUL test.)"""
    for signature, what in _BINARY_SIGNATURES:
        if data.startswith(signature):
            raise InvalidInput(f"the file is {what}, not {fmt.upper()}: its content does not match its name")
    if b"\x00" in data[:8192] and not data.startswith(_TEXT_BOMS):
        raise InvalidInput(f"the file is binary (it holds NUL bytes), not {fmt.upper()} text")


def _refuse_wrapper(text: str) -> None:
    """InvalidInput for a JSON file holding one object that wraps a list of records."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return  # the array reader reports where it breaks
    if isinstance(value, dict):
        key = one_record_or_wrapper(value)
        if key is not None:
            raise InvalidInput(f"expected a JSON array of records; found an object whose '{key}' field holds "
                               "a list of records: upload that array (or one record object)")


def _text(data: bytes, fmt: str) -> tuple[str, str]:
    refuse_binary(data, fmt)
    text, encoding = decode_text(data)
    if not text.strip():
        raise InvalidInput("the file is empty")
    return text, encoding


def _read_pdf(data: bytes, filename: str | None, record_tag: str | None) -> ParsedSource:
    return ParsedSource("pdf", None, pdf_rows(data, filename))


def _read_csv(data: bytes, filename: str | None, record_tag: str | None) -> ParsedSource:
    text, encoding = _text(data, "csv")
    columns, rows = csv_rows(text, filename=filename)
    return ParsedSource("csv", encoding, rows, columns)


def _read_json(data: bytes, filename: str | None, record_tag: str | None) -> ParsedSource:
    text, encoding = _text(data, "json")
    if text.lstrip().startswith("{"):
        if first_line_is_json(text):  # one object a line, under a .json name
            return ParsedSource("ndjson", encoding, ndjson_rows(text))
        _refuse_wrapper(text)  # one pretty-printed object: a single record, unless it wraps the array
        text = f"[{text}]"
    return ParsedSource("json", encoding, json_array_rows(text))


def _read_ndjson(data: bytes, filename: str | None, record_tag: str | None) -> ParsedSource:
    text, encoding = _text(data, "ndjson")
    return ParsedSource("ndjson", encoding, ndjson_rows(text))


def _read_xml(data: bytes, filename: str | None, record_tag: str | None) -> ParsedSource:
    text, encoding = _text(data, "xml")
    return ParsedSource("xml", encoding, xml_rows(text, record_tag))


# the order is the order of content sniffing; the last entry is the fallback
READERS: dict[str, FileFormat] = {
    "pdf": FileFormat(_read_pdf, (".pdf",), (b"%PDF-",)),
    "json": FileFormat(_read_json, (".json",), (b"[",)),
    "ndjson": FileFormat(_read_ndjson, (".ndjson", ".jsonl"), (b"{",)),
    "xml": FileFormat(_read_xml, (".xml",), (b"<",)),
    "csv": FileFormat(_read_csv, (".csv", ".tsv", ".txt")),
}
FORMATS = tuple(READERS)
_ALIASES = {"jsonl": "ndjson"}
_FALLBACK = FORMATS[-1]


def detect_format(filename: str | None, head: bytes, declared: str | None = None) -> str:
    """One of `FORMATS`: the declared format, else the extension, else the content.

    InvalidInput for an unknown declared format, and for a .pdf that is not a PDF."""
    if declared:
        fmt = declared.lower().strip()
        fmt = _ALIASES.get(fmt, fmt)
        if fmt not in READERS:
            raise InvalidInput(f"unknown file format '{declared}'; use one of {', '.join(FORMATS)}")
        return fmt
    name = (filename or "").lower()
    for fmt, entry in READERS.items():
        if name.endswith(entry.extensions):
            return fmt
    stripped = head.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n")
    for fmt, entry in READERS.items():
        if entry.starts_with and stripped.startswith(entry.starts_with):
            return fmt
    return _FALLBACK


def parse_file(
    data: bytes, *, filename: str | None = None, file_format: str | None = None, record_tag: str | None = None
) -> ParsedSource:
    """Read a file into rows. Whole-file problems (not a PDF, malformed JSON array or XML, refused
    XML entities, no header) raise InvalidInput; problems of single rows come back as RowError."""
    fmt = detect_format(filename, data[:1024], file_format)
    return READERS[fmt].read(data, filename, record_tag)
