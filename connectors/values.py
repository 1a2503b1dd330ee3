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
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

Converter = Callable[[Any, "ValueConverter"], Any]

_PLAIN: frozenset[type] = frozenset({str, int, bool, type(None)})


def _float(value: float, _: ValueConverter) -> Any:
    return value if math.isfinite(value) else str(value)


def _decimal(value: Decimal, _: ValueConverter) -> Any:
    if not value.is_finite():
        return str(value)
    if value == value.to_integral_value():
        return int(value)
    return float(value)


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
    Decimal: _decimal,
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


class ValueConverter:
    """Converts driver values to JSON-safe ones; `extra` adds (or overrides) converters by type.

    Lookup is by exact type first, then along the value's MRO (so subclasses of `datetime`,
    `Mapping` implementations and driver types deriving from builtins are handled); the answer per
    type is cached. Unknown types become `str(value)`.
    """

    def __init__(self, extra: Mapping[type, Converter] | None = None) -> None:
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


DEFAULT_CONVERTER = ValueConverter()
