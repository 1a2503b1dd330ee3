"""Turn whatever a driver returns into JSON-safe values, so no row can crash a pull.

Numbers stay numbers (a `Decimal` becomes an `int` when integral, else a `float`; non-finite values
become strings), dates and times become ISO 8601 strings, UUIDs strings, bytes base64, sets sorted
lists, and containers are converted recursively. Each source kind adds converters for its driver's
own types (BSON ObjectId, Neo4j nodes, ...); anything still unknown becomes `str(value)`.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import math
import uuid
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

Converter = Callable[[Any, "ValueConverter"], Any]

_PLAIN: frozenset[type] = frozenset({str, int, bool, type(None)})


def _float(value: float, _: ValueConverter) -> Any:
    return value if math.isfinite(value) else str(value)


def _decimal_value(value: Decimal) -> Any:
    if not value.is_finite():
        return str(value)
    as_int = int(value)
    return as_int if as_int == value else float(value)


def _isoformat(value: dt.date | dt.time, _: ValueConverter) -> str:
    return value.isoformat()


def _seconds(value: dt.timedelta, _: ValueConverter) -> float:
    return value.total_seconds()


def _bytes(value: bytes | bytearray | memoryview, _: ValueConverter) -> str:
    return base64.b64encode(bytes(value)).decode("ascii")


def _string(value: Any, _: ValueConverter) -> str:
    return str(value)


def _mapping(value: Mapping[Any, Any], conv: ValueConverter) -> dict[str, Any]:
    return {str(k): conv.convert(v) for k, v in value.items()}


def _sequence(value: Any, conv: ValueConverter) -> list[Any]:
    return [conv.convert(v) for v in value]


def _set(value: set[Any] | frozenset[Any], conv: ValueConverter) -> list[Any]:
    items = [conv.convert(v) for v in value]
    try:
        return sorted(items)
    except TypeError:
        return items


BASE_CONVERTERS: dict[type, Converter] = {
    float: _float,
    Decimal: lambda value, _: _decimal_value(value),
    dt.datetime: _isoformat,
    dt.date: _isoformat,
    dt.time: _isoformat,
    dt.timedelta: _seconds,
    uuid.UUID: _string,
    bytes: _bytes,
    bytearray: _bytes,
    memoryview: _bytes,
    ipaddress.IPv4Address: _string,
    ipaddress.IPv6Address: _string,
    ipaddress.IPv4Network: _string,
    ipaddress.IPv6Network: _string,
    ipaddress.IPv4Interface: _string,
    ipaddress.IPv6Interface: _string,
    dict: _mapping,
    list: _sequence,
    tuple: _sequence,
    set: _set,
    frozenset: _set,
}


def _decimal_column(values: Sequence[Decimal]) -> list[Any]:
    # C-level maps: a column of integral decimals becomes ints (exact), any other finite one floats
    floats = list(map(float, values))
    if not all(map(math.isfinite, floats)):
        return [_decimal_value(v) for v in values]
    if all(map(float.is_integer, floats)):
        return list(map(int, values))
    return floats


def _column(function: Callable[[Any], Any]) -> Callable[[Sequence[Any]], list[Any]]:
    return lambda values: list(map(function, values))


# whole-column conversions for columns of one type without NULLs: the fast path of `table()`
COLUMN_FUNCTIONS: dict[type, Callable[[Sequence[Any]], list[Any]]] = {
    Decimal: _decimal_column,
    dt.datetime: _column(dt.datetime.isoformat),
    dt.date: _column(dt.date.isoformat),
    dt.time: _column(dt.time.isoformat),
    uuid.UUID: _column(str),
}


class ValueConverter:
    """Converts driver values to JSON-safe ones; `extra` adds (or overrides) converters by type.

    Lookup is by exact type first, then along the value's MRO (so subclasses of `datetime`,
    `Mapping` implementations and driver types deriving from builtins are handled); the answer per
    type is cached. Unknown types become `str(value)`.
    """

    def __init__(self, extra: Mapping[type, Converter] | None = None) -> None:
        self._extra = frozenset(extra or ())
        self._by_type: dict[type, Converter] = {**BASE_CONVERTERS, **(extra or {})}
        self._resolved: dict[type, Converter] = dict(self._by_type)

    def _resolve(self, kind: type) -> Converter:
        for base in kind.__mro__:
            found = self._by_type.get(base)
            if found is not None:
                break
        else:
            found = _mapping if issubclass(kind, Mapping) else _string
        self._resolved[kind] = found
        return found

    def convert(self, value: Any) -> Any:
        """A JSON-safe equivalent of `value` (plain str/int/bool/None pass through unchanged)."""
        kind = type(value)
        if kind in _PLAIN:
            return value
        converter = self._resolved.get(kind) or self._resolve(kind)
        return converter(value, self)

    def row(self, items: Any) -> dict[str, Any]:
        """A JSON-safe dict from `(column, value)` pairs, e.g. `record.items()`."""
        plain = _PLAIN
        convert = self.convert
        return {str(k): (v if type(v) in plain else convert(v)) for k, v in items}

    def table(self, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
        """JSON-safe dicts from same-shaped rows (SQL results), converting column by column.

        A column holding only plain values is copied as is; a column of one converted type (plus
        NULLs) goes through that type's one-argument function; anything mixed falls back to
        `convert` per value. Same result as `row()` on each row, several times faster.
        """
        if not rows:
            return []
        names = [str(c) for c in columns]
        converted: list[Sequence[Any]] = []
        for values in zip(*rows, strict=True):
            kinds = set(map(type, values))
            kinds.discard(type(None))
            if kinds <= _PLAIN:
                converted.append(values)
                continue
            fast = self._column_function(kinds.pop()) if len(kinds) == 1 and None not in values else None
            if fast is not None:
                converted.append(fast(values))
            else:
                convert = self.convert
                converted.append([None if v is None else convert(v) for v in values])
        return [dict(zip(names, values)) for values in zip(*converted)]  # noqa: B905 (same length by construction)

    def _column_function(self, kind: type) -> Callable[[Sequence[Any]], list[Any]] | None:
        if kind in self._extra:
            return None
        for base in kind.__mro__:  # e.g. asyncpg's own UUID subclass, whose str() is C-level
            if base in COLUMN_FUNCTIONS:
                return COLUMN_FUNCTIONS[base]
        return None


DEFAULT_CONVERTER = ValueConverter()
