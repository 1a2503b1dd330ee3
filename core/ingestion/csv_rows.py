"""CSV rows: header detection, delimiter sniffing, typed cells, malformed rows rejected by line."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from core.errors import InvalidInput
from core.ingestion.rows import ParsedRow, RowError
from core.ingestion.values import infer_value

_DELIMITERS = ",;\t|"
# the csv module's own cap (128 K characters) would reject a long value as "malformed"; the one cap on
# values for every format is `max_field_bytes`, applied to the parsed row (core.ingestion.limits)
csv.field_size_limit(2**31 - 1)


def sniff_delimiter(text: str, filename: str | None = None) -> str:
    """The field delimiter: tab for .tsv, else the sniffed one among , ; tab |, else a comma."""
    if filename and filename.lower().endswith(".tsv"):
        return "\t"
    sample = text[: 64 * 1024]
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        return ","


def header_names(raw: list[str]) -> list[str]:
    """Column names: stripped, blanks named `column_N`, repeats suffixed `_2`, `_3`..."""
    names: list[str] = []
    seen: set[str] = set()
    for i, cell in enumerate(raw, start=1):
        base = cell.strip() or f"column_{i}"
        name, n = base, 1
        while name in seen:
            n += 1
            name = f"{base}_{n}"
        seen.add(name)
        names.append(name)
    return names


def csv_rows(text: str, *, filename: str | None = None) -> tuple[list[str], Iterator[ParsedRow | RowError]]:
    """(column names, rows). Blank cells are left out of a row; a row with the wrong number of
    fields or broken quoting is a RowError at its first line. InvalidInput for a file without a header."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text, filename), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidInput("the CSV file is empty") from None
    except csv.Error as exc:
        raise InvalidInput(f"the CSV header (line 1) is malformed: {exc}") from exc
    columns = header_names(header)
    if not any(c.strip() for c in header):
        raise InvalidInput("the CSV header (line 1) has no column names")
    return columns, _rows(reader, columns)


def _rows(reader, columns: list[str]) -> Iterator[ParsedRow | RowError]:
    width = len(columns)
    start = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            end = reader.line_num
            where = f"lines {start}-{end}" if end > start else f"line {start}"
            reason = (
                "unterminated quoted field: the rest of the file could not be read"
                if "end of data" in str(exc)
                else f"malformed CSV ({exc})"
            )
            yield RowError(start, None, f"{reason} ({where})" if end > start else reason)
            start = reader.line_num + 1
            continue
        line, start = start, reader.line_num + 1
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            continue  # blank line
        if len(cells) != width:
            yield RowError(line, None, f"expected {width} fields, found {len(cells)}")
            continue
        fields = {}
        for name, cell in zip(columns, cells, strict=True):
            value = infer_value(cell)
            if value is not None:
                fields[name] = value
        yield ParsedRow(line, fields)
