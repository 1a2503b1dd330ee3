"""What text a record is embedded from."""

from __future__ import annotations

from core.embeddings.text import MAX_EMBEDDING_TEXT_CHARS, MAX_FIELD_CHARS, build_embedding_text


def test_name_type_description_then_fields() -> None:
    text = build_embedding_text(
        "Hex Bolt M8x40",
        "fastener",
        "A stainless hex head bolt.",
        {"material": "Stainless A2", "part_number": "SS-M8-40", "in_stock": True, "weight_kg": 0.02},
    )
    assert text.splitlines() == [
        "Hex Bolt M8x40",
        "Type: fastener",
        "A stainless hex head bolt.",
        "in stock: yes",
        "material: Stainless A2",
        "part number: SS-M8-40",
        "weight kg: 0.02",
    ]


def test_same_record_same_text_whatever_the_key_order() -> None:
    a = build_embedding_text("n", "t", None, {"b": 1, "a": {"y": 2, "x": [1, 2]}})
    b = build_embedding_text("n", "t", None, {"a": {"x": [1, 2], "y": 2}, "b": 1})
    assert a == b
    assert "a.x: 1, 2" in a


def test_empty_values_are_left_out_and_repeats_of_the_name_skipped() -> None:
    text = build_embedding_text("Widget", "part", "", {"title": "Widget", "note": None, "tags": [], "x": ""})
    assert text == "Widget\nType: part"


def test_whitespace_is_collapsed_and_unicode_kept() -> None:
    text = build_embedding_text("  Насос \n  высокого   давления ", None, None, {"город": "Москва"})
    assert text == "Насос высокого давления\nгород: Москва"


def test_long_values_are_cut_deterministically() -> None:
    long = "x" * (MAX_FIELD_CHARS * 3)
    text = build_embedding_text("n", None, None, {f"f{i:03d}": long for i in range(40)})
    assert len(text) == MAX_EMBEDDING_TEXT_CHARS
    assert text.splitlines()[1] == "f000: " + "x" * MAX_FIELD_CHARS
    assert text == build_embedding_text("n", None, None, {f"f{i:03d}": long for i in range(40)})


def test_never_empty_when_the_record_has_a_name() -> None:
    assert build_embedding_text("x", None, None, None) == "x"
    assert build_embedding_text("", "", None, {}) == ""
