"""JSON arrays and NDJSON: objects become rows; an invalid NDJSON line rejects that line only."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from core.errors import InvalidInput
from core.ingestion.rows import ParsedRow, RowError

_WS = " \t\n\r"


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


def _row(line: int, value: Any) -> ParsedRow | RowError:
    if not isinstance(value, dict):
        return RowError(line, None, f"expected a JSON object, found {type(value).__name__}")
    return ParsedRow(line, value)


def json_array_rows(text: str) -> Iterator[ParsedRow | RowError]:
    """Rows of a JSON array of objects, each with the line its object starts on.

    InvalidInput when the text is not a JSON array (the error says line and column)."""
    n = len(text)
    i = 0
    line = 1

    def skip(pos: int) -> int:
        while pos < n and text[pos] in _WS:
            pos += 1
        return pos

    def fail(pos: int, what: str) -> InvalidInput:
        ln = text.count("\n", 0, pos) + 1
        col = pos - (text.rfind("\n", 0, pos) + 1) + 1
        return InvalidInput(f"invalid JSON at line {ln} column {col}: {what}")

    i = skip(0)
    if i >= n or text[i] != "[":
        raise fail(i, "expected a JSON array of records")
    i = skip(i + 1)
    if i < n and text[i] == "]":
        return
    counted = 0
    while True:
        line += text.count("\n", counted, i)
        counted = i
        try:
            value, end = _DECODER.raw_decode(text, i)
        except json.JSONDecodeError as exc:
            raise fail(exc.pos, exc.msg) from exc
        except ValueError as exc:
            raise fail(i, str(exc)) from exc
        except RecursionError:
            raise fail(i, "the record nests too deeply to read") from None
        yield _row(line, value)
        i = skip(end)
        if i < n and text[i] == ",":
            i = skip(i + 1)
        elif i < n and text[i] == "]":
            if skip(i + 1) != n:
                raise fail(skip(i + 1), "extra data after the array")
            return
        else:
            raise fail(i, "expected ',' or ']'")


def ndjson_rows(text: str) -> Iterator[ParsedRow | RowError]:
    """Rows of newline-delimited JSON; an invalid or non-object line is a RowError for that line."""
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            value = _DECODER.decode(raw)
        except json.JSONDecodeError as exc:
            yield RowError(number, None, f"invalid JSON: {exc.msg} (column {exc.colno})")
            continue
        except ValueError as exc:
            yield RowError(number, None, f"invalid JSON: {exc}")
            continue
        except RecursionError:
            yield RowError(number, None, "invalid JSON: the record nests too deeply to read")
            continue
        yield _row(number, value)


def one_record_or_wrapper(value: dict[str, Any]) -> str | None:
    """None when a JSON object is one record by the contract's shape (`{name, collection_data, ...}` or
    a flat object); else the name of the field holding a list of records (`{"products": [{...}, ...]}`),
    which means the object wraps the array the caller meant to send."""
    if isinstance(value.get("collection_data"), dict):
        return None
    for key, field in value.items():
        if isinstance(field, list) and field and all(isinstance(item, dict) for item in field):
            return key
    return None


def first_line_is_json(text: str) -> bool:
    """True when the first non-blank line is a complete JSON value (NDJSON), not the start of one."""
    for raw in text.splitlines():
        if raw.strip():
            try:
                _DECODER.decode(raw)
            except ValueError:
                return False
            except RecursionError:
                return True  # a whole (if absurdly deep) value on one line: NDJSON, rejected by line
            return True
    return False
