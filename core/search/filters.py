"""Filters and sort on `collection_data`, checked against the collection's field catalog and typed by it.

`price_min`, `price_max`, `price_gt`, `price_lt` compare; `country_in` or `"country": "DE,FR"` or a list
match any of several values; anything else matches one value. Numbers compare as numbers, booleans as
booleans, ISO dates as dates. Field names never become SQL: they are bound as JSONB keys.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.errors import InvalidInput
from core.records.content import is_iso_date

RANGE_SUFFIXES = {"_min": ">=", "_max": "<=", "_gt": ">", "_lt": "<"}
COLUMN_SORTS = ("name", "updated_at")
MAX_FILTERS = 20
MAX_VALUES = 100
FieldCatalog = Mapping[str, frozenset[str] | set[str] | list[str]]


@dataclass(frozen=True, slots=True)
class Condition:
    """One filter: `op` is eq, in, or a comparison (>=, <=, >, <); `values` are typed JSON values."""

    field: str
    op: str
    values: tuple[Any, ...]
    json_type: str | None = None  # jsonb_typeof the compared value must have (comparisons only)
    # the field holds nothing but that type (its catalog says so): the comparison needs no type check,
    # which also keeps the planner's estimate of it right (a function call is a blind 0.5% guess)
    single_kind: bool = False
    indexed: bool = False  # the field has a valid field index (core/search/field_indexes.py)


@dataclass(frozen=True, slots=True)
class Sort:
    """Order by a column (`name`, `updated_at`) or a collection_data field, ascending or descending."""

    field: str
    descending: bool
    is_column: bool
    indexed: bool = False  # a collection_data field with a valid field index


def _known(catalog: FieldCatalog) -> str:
    names = sorted(catalog)
    listed = ", ".join(names[:30]) + (" ..." if len(names) > 30 else "")
    return listed or "none (the collection has no records)"


def _number(key: str, value: Any) -> int | float:
    if isinstance(value, bool):
        raise InvalidInput(f"filter '{key}' expects a number, got {value!r}")
    if isinstance(value, int | float):
        number = value
    elif isinstance(value, str):
        try:
            number = float(value.strip()) if any(c in value for c in ".eE") else int(value.strip())
        except ValueError:
            raise InvalidInput(f"filter '{key}' expects a number, got {value!r}") from None
    else:
        raise InvalidInput(f"filter '{key}' expects a number, got {value!r}")
    if isinstance(number, float) and not math.isfinite(number):
        raise InvalidInput(f"filter '{key}' expects a finite number")
    return number


def _boolean(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise InvalidInput(f"filter '{key}' expects true or false, got {value!r}")


def _typed(key: str, value: Any, kinds: set[str] | frozenset[str]) -> Any:
    """The value as the JSON type the field holds (a mixed field takes the type the value fits)."""
    if value is None or isinstance(value, dict | list):
        raise InvalidInput(f"filter '{key}' expects a single value, got {value!r}")
    if "number" in kinds:
        try:
            return _number(key, value)
        except InvalidInput:
            if not kinds - {"number", "null"}:
                raise
    if "boolean" in kinds:
        try:
            return _boolean(key, value)
        except InvalidInput:
            if not kinds - {"boolean", "null"}:
                raise
    if kinds & {"string", "date"}:
        if isinstance(value, bool):
            return "true" if value else "false"
        return value if isinstance(value, str) else str(value)
    raise InvalidInput(f"filter '{key}' cannot match a field holding {', '.join(sorted(kinds))}")


def _split(value: Any) -> list[Any]:
    if isinstance(value, list):
        items = value
    elif isinstance(value, str) and "," in value:
        items = [part.strip() for part in value.split(",")]
        items = [part for part in items if part]
    else:
        return [value]
    if not items:
        raise InvalidInput("an empty list of values matches nothing")
    if len(items) > MAX_VALUES:
        raise InvalidInput(f"at most {MAX_VALUES} values per filter")
    return items


def parse_filters(
    filters: Mapping[str, Any], catalog: FieldCatalog, indexed: frozenset[str] = frozenset()
) -> list[Condition]:
    """Conditions for the filters; InvalidInput for unknown fields and values of the wrong type.
    Conditions on `indexed` fields are marked so their SQL matches the field's index."""
    if len(filters) > MAX_FILTERS:
        raise InvalidInput(f"at most {MAX_FILTERS} filters")
    conditions: list[Condition] = []
    for key, raw in filters.items():
        if not isinstance(key, str) or not key or len(key) > 200:
            raise InvalidInput("filter names are non-empty text")
        field, op = key, "eq"
        if key not in catalog:
            for suffix, comparison in (*RANGE_SUFFIXES.items(), ("_in", "in")):
                if key.endswith(suffix) and key[: -len(suffix)] in catalog:
                    field, op = key[: -len(suffix)], comparison
                    break
            else:
                raise InvalidInput(
                    f"unknown filter field '{key}'; fields of this collection: {_known(catalog)}"
                )
        kinds = set(catalog[field])
        on_index = field in indexed
        if op in RANGE_SUFFIXES.values():
            if isinstance(raw, list | dict) or raw is None:
                raise InvalidInput(f"filter '{key}' expects a single value")
            if "number" in kinds:
                value = _number(key, raw)
                conditions.append(Condition(field, op, (value,), "number", kinds == {"number"}, on_index))
            elif "date" in kinds:
                if not isinstance(raw, str) or not is_iso_date(raw.strip()):
                    raise InvalidInput(f"filter '{key}' expects an ISO date like 2026-03-05, got {raw!r}")
                conditions.append(Condition(field, op, (raw.strip(),), "string", kinds == {"date"}, on_index))
            else:
                raise InvalidInput(
                    f"filter '{key}': '{field}' holds {', '.join(sorted(kinds))}; ranges need numbers or dates"
                )
            continue
        values = tuple(_typed(key, v, kinds) for v in _split(raw))
        op = "in" if op == "in" or len(values) > 1 else "eq"
        conditions.append(Condition(field, op, values, indexed=on_index))
    return conditions


def default_filter_sort(conditions: list[Condition]) -> Sort | None:
    """The order of filter-only results when the request names none: the first range filter's field,
    ascending (then id), else None (id order). Records are found from a field index in that order,
    and it reads better than the arbitrary order of ids (cheapest first for `price_max`)."""
    for cond in conditions:
        if cond.op in RANGE_SUFFIXES.values():
            return Sort(cond.field, False, False, cond.indexed)
    return None


def parse_sort(sort: str | None, catalog: FieldCatalog, indexed: frozenset[str] = frozenset()) -> Sort | None:
    """The sort: `name`, `updated_at` or a collection_data field, `-` first for descending;
    InvalidInput for any other field."""
    if not sort:
        return None
    descending = sort.startswith("-")
    field = sort[1:] if descending else sort
    if field in COLUMN_SORTS:
        return Sort(field, descending, True)
    if field in catalog:
        return Sort(field, descending, False, field in indexed)
    raise InvalidInput(
        f"cannot sort by '{field}'; use name, updated_at or a field of this collection: {_known(catalog)}"
    )
