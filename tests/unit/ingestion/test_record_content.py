"""How a record becomes searchable: its hash and its identifiers."""

from __future__ import annotations

import pytest

from core.records import content_hash, extract_identifiers, looks_like_identifier, normalize_identifier
from core.records.content import value_kind
from core.records.identifiers import leading_parts, one_typo_variants


def test_content_hash_ignores_key_order_and_sees_every_part() -> None:
    a = content_hash("Bolt", "fastener", {"a": 1, "b": [1, "x"]}, None)
    assert a == content_hash("Bolt", "fastener", {"b": [1, "x"], "a": 1})
    assert len(a) == 64
    assert a != content_hash("Bolt", "fastener", {"a": 1, "b": [1, "x"]}, "described")
    assert a != content_hash("Bolt", "screw", {"a": 1, "b": [1, "x"]})
    assert a != content_hash("Bolt", "fastener", {"a": 1.5, "b": [1, "x"]})


@pytest.mark.parametrize("text", ["SS-M8-40-A2", "ss m8 40 a2", "SSM840A2", "ss_m8.40/a2"])
def test_spellings_of_one_part_number_normalise_alike(text: str) -> None:
    assert normalize_identifier(text) == "SSM840A2"
    assert looks_like_identifier(text)


@pytest.mark.parametrize(
    "text", ["ISO 4017", "DIN-933", "EN 10204:2004", "4006381333931", "x86_64", "123-456"]
)
def test_codes_and_standards_are_identifiers(text: str) -> None:
    assert looks_like_identifier(text)


@pytest.mark.parametrize("text", ["M8 bolt", "stainless M8 bolt ISO 4017", "bolt", "40", "2026-03-05", ""])
def test_prose_short_numbers_and_dates_are_not(text: str) -> None:
    assert not looks_like_identifier(text)


def test_identifiers_come_from_name_and_every_value() -> None:
    identifiers = extract_identifiers(
        "Stainless Steel Hex Head Bolt M8x40 ISO 4017",
        {
            "part_number": "SS-M8-40-A2",
            "material": "Stainless Steel A2",
            "ean": 4006381333931,
            "price": 0.12,
            "released": "2026-03-05",
            "specs": {"thread": "M8x1.25"},
        },
    )
    # exact identifiers first, then the leading parts of code tokens, marked (M8 of M8x40)
    assert identifiers == [
        "M8X40", "ISO4017", "SSM840A2", "4006381333931", "M8X125", "M8*", "SSM8*", "SSM840*", "M8X1*"
    ]


def test_leading_parts_of_codes() -> None:
    assert leading_parts("M8x40") == ["M8*"]
    assert leading_parts("M8-40") == ["M8*"]
    assert leading_parts("SS-M8-40-A2") == ["SSM8*", "SSM840*"]
    assert leading_parts("10204:2004") == []  # digits only: no part a person would type
    assert leading_parts("M8") == []


def test_one_typo_variants_are_every_single_typo_and_nothing_more() -> None:
    variants = set(one_typo_variants("AB12"))
    assert {"AB13", "A12", "AB123", "XAB12", "BA12", "A1B2", "AB21"} <= variants  # replaced, dropped, added, swapped
    assert "AB12" not in variants
    assert not {"BA21", "AB", "AB1234", "ab12"} & variants  # two typos, or not normalised
    # each one is a single edit: n+1 places to add, n to drop or replace, n-1 swaps
    assert len(variants) <= 36 * 5 + 35 * 4 + 4 + 3


def test_value_kinds_for_the_field_catalog() -> None:
    assert [value_kind(v) for v in (1, 1.5, True, "x", "2026-03-05T14:30:00Z", None, {}, [])] == [
        "number",
        "number",
        "boolean",
        "string",
        "date",
        "null",
        "object",
        "array",
    ]
