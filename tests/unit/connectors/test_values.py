from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal

from connectors.values import DEFAULT_CONVERTER, ValueConverter


def test_numbers_stay_numbers() -> None:
    row = DEFAULT_CONVERTER.row(
        {"price": Decimal("12.50"), "qty": Decimal("3"), "ratio": 0.25, "n": 7, "flag": True}.items()
    )
    assert row == {"price": 12.5, "qty": 3, "ratio": 0.25, "n": 7, "flag": True}
    assert isinstance(row["qty"], int)


def test_non_finite_numbers_become_strings() -> None:
    row = DEFAULT_CONVERTER.row({"a": float("nan"), "b": Decimal("Infinity")}.items())
    assert row == {"a": "nan", "b": "Infinity"}
    json.dumps(row, allow_nan=False)


def test_temporal_uuid_bytes_and_containers_are_json_safe() -> None:
    ident = uuid.UUID("12345678-1234-5678-1234-567812345678")
    row = DEFAULT_CONVERTER.row(
        {
            "when": dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
            "day": dt.date(2024, 1, 2),
            "at": dt.time(9, 30),
            "took": dt.timedelta(minutes=2),
            "id": ident,
            "blob": b"\x00\xff",
            "tags": {"b", "a"},
            "nested": {"xs": [Decimal("1.5"), (ident, None)], 3: "int key"},
        }.items()
    )
    assert row == {
        "when": "2024-01-02T03:04:05+00:00",
        "day": "2024-01-02",
        "at": "09:30:00",
        "took": 120.0,
        "id": str(ident),
        "blob": "AP8=",
        "tags": ["a", "b"],
        "nested": {"xs": [1.5, [str(ident), None]], "3": "int key"},
    }
    json.dumps(row, allow_nan=False)


def test_unknown_types_become_strings_and_extra_converters_win() -> None:
    class Money:
        def __str__(self) -> str:
            return "EUR 5"

    assert DEFAULT_CONVERTER.convert(Money()) == "EUR 5"
    conv = ValueConverter({Money: lambda v, _c: {"currency": "EUR", "amount": 5}})
    assert conv.convert([Money()]) == [{"currency": "EUR", "amount": 5}]


def test_subclasses_use_their_base_converter() -> None:
    class Stamp(dt.datetime):
        pass

    assert DEFAULT_CONVERTER.convert(Stamp(2024, 5, 6)) == "2024-05-06T00:00:00"


def test_column_wise_conversion_matches_row_wise() -> None:
    columns = ["id", "price", "qty", "at", "sku", "mixed", "blob"]
    ident = uuid.UUID(int=7)
    rows = [
        (1, Decimal("1.50"), Decimal("3"), dt.datetime(2024, 1, 1), ident, 1, b"x"),
        (2, None, Decimal("4"), None, None, "two", None),
        (3, Decimal("NaN"), Decimal("5"), dt.datetime(2024, 1, 3), ident, Decimal("3.5"), b"y"),
    ]
    table = DEFAULT_CONVERTER.table(columns, rows)
    assert table == [DEFAULT_CONVERTER.row(zip(columns, r, strict=True)) for r in rows]
    assert table[0]["qty"] == 3 and isinstance(table[0]["qty"], int)
    assert table[2]["price"] == "NaN"
    assert DEFAULT_CONVERTER.table(columns, []) == []


def test_integral_decimal_columns_stay_exact_integers() -> None:
    big = Decimal("12345678901234567890")
    assert DEFAULT_CONVERTER.table(["n"], [(big,), (Decimal("2"),)]) == [
        {"n": 12345678901234567890},
        {"n": 2},
    ]
