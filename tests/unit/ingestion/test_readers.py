"""Readers turn file bytes into typed rows; bad rows are rejected by line, hostile files refused."""

from __future__ import annotations

import codecs

import pytest

from core.errors import InvalidInput
from core.ingestion.csv_rows import csv_rows
from core.ingestion.encoding import decode_text
from core.ingestion.formats import detect_format, parse_file
from core.ingestion.json_rows import json_array_rows, ndjson_rows
from core.ingestion.naming import choose_name_column
from core.ingestion.pdf_rows import pdf_rows
from core.ingestion.rows import ParsedRow, RowError
from core.ingestion.values import infer_value
from core.ingestion.xml_rows import xml_rows
from tests.unit.ingestion.samples import BILLION_LAUGHS_XML, PRODUCTS_XML, XXE_XML, text_pdf


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("42", 42),
        ("-3", -3),
        ("3.50", 3.5),
        ("1e3", 1000.0),
        (".5", 0.5),
        ("true", True),
        ("FALSE", False),
        ("007", "007"),
        ("12345678901234567", "12345678901234567"),
        ("1,234", "1,234"),
        ("NaN", "NaN"),
        ("2026-03-05", "2026-03-05"),
        ("  padded ", "padded"),
        ("", None),
        ("  ", None),
        ("01.5", "01.5"),
    ],
)
def test_cells_keep_their_type_and_codes_keep_their_text(cell: str, value: object) -> None:
    assert infer_value(cell) == value
    assert type(infer_value(cell)) is type(value)


def test_encodings_utf8_bom_utf16_and_latin1_decode_to_the_same_text() -> None:
    text = "name,city\nMüller Schraube,Köln\nCafé crème,Besançon\n"
    assert decode_text(text.encode("utf-8")) == (text, "utf-8")
    assert decode_text(codecs.BOM_UTF8 + text.encode("utf-8"))[0] == text
    assert decode_text(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))[0] == text
    assert decode_text(codecs.BOM_UTF16_BE + text.encode("utf-16-be"))[0] == text
    assert decode_text(text.encode("latin-1"))[0] == text
    assert decode_text("Preis: 5 € – “Schraube”\n".encode("cp1252"))[0] == "Preis: 5 € – “Schraube”\n"


def test_a_broken_utf16_file_is_refused_with_the_reason() -> None:
    with pytest.raises(InvalidInput, match="utf-16"):
        decode_text(codecs.BOM_UTF16_LE + b"a\x00b")


def test_csv_rows_report_malformed_rows_by_line_and_keep_the_rest() -> None:
    text = 'sku,name,price\nA-1,Bolt,1.5\nB-2,"Nut"x,2\nC-3,Washer\nD-4,Rod,3,extra\n\nE-5,"Two\nlines",4\nF-6,Pin,5\n'
    columns, rows = csv_rows(text)
    rows = list(rows)
    assert columns == ["sku", "name", "price"]
    good = [r for r in rows if isinstance(r, ParsedRow)]
    bad = [r for r in rows if isinstance(r, RowError)]
    assert [(r.line, r.fields["sku"]) for r in good] == [(2, "A-1"), (7, "E-5"), (9, "F-6")]
    assert good[1].fields["name"] == "Two\nlines"
    assert good[0].fields["price"] == 1.5
    assert [e.line for e in bad] == [3, 4, 5]
    assert "expected 3 fields, found 2" in bad[1].reason


def test_csv_unterminated_quote_is_one_error_at_its_line() -> None:
    _, rows = csv_rows('a,b\n1,2\n3,"never closed\n4,5\n')
    rows = list(rows)
    assert isinstance(rows[0], ParsedRow)
    assert isinstance(rows[1], RowError) and rows[1].line == 3 and "unterminated" in rows[1].reason


def test_csv_semicolons_tabs_and_repeated_headers() -> None:
    columns, rows = csv_rows("name;price;price\nBolt;1,5;2\n")
    assert columns == ["name", "price", "price_2"]
    assert next(rows).fields == {"name": "Bolt", "price": "1,5", "price_2": 2}
    columns, _ = csv_rows("a\tb\n1\t2\n", filename="x.tsv")
    assert columns == ["a", "b"]


def test_json_array_rows_carry_the_line_their_object_starts_on() -> None:
    text = '[\n  {"name": "A", "n": 1},\n  {"name": "B",\n   "n": 2},\n  3\n]'
    rows = list(json_array_rows(text))
    assert [(r.line, getattr(r, "fields", None)) for r in rows[:2]] == [
        (2, {"name": "A", "n": 1}),
        (3, {"name": "B", "n": 2}),
    ]
    assert isinstance(rows[2], RowError) and rows[2].line == 5


@pytest.mark.parametrize(
    "text", ['[{"name": "A"},, ]', '{"name": "A"', '[{"a": NaN}]', '[{"a": 1}] trailing']
)
def test_invalid_json_array_is_refused_with_its_position(text: str) -> None:
    with pytest.raises(InvalidInput, match="invalid JSON at line"):
        list(json_array_rows(text))


def test_ndjson_invalid_lines_are_rejected_one_by_one() -> None:
    rows = list(ndjson_rows('{"name": "A"}\n{broken\n\n[1]\n{"name": "B", "x": Infinity}\n{"name": "C"}\n'))
    assert [r.line for r in rows if isinstance(r, ParsedRow)] == [1, 6]
    assert [(r.line, r.reason.split(":")[0]) for r in rows if isinstance(r, RowError)] == [
        (2, "invalid JSON"),
        (4, "expected a JSON object, found list"),
        (5, "invalid JSON"),
    ]


def test_xml_records_under_the_tag_with_attributes_children_and_types() -> None:
    rows = list(xml_rows(PRODUCTS_XML.decode(), "product"))
    assert [r.line for r in rows] == [1, 2]
    assert rows[0].fields == {
        "sku": "SS-M8-40-A2",
        "name": "Stainless Steel Hex Head Bolt M8x40 ISO 4017",
        "price": 0.12,
        "in_stock": True,
        "tags": {"tag": ["bolt", "stainless"]},
    }


@pytest.mark.parametrize("payload", [XXE_XML, BILLION_LAUGHS_XML])
def test_xml_entities_are_refused_without_expansion(payload: bytes) -> None:
    with pytest.raises(InvalidInput, match="XML refused"):
        list(xml_rows(payload.decode(), "item"))


def test_xml_needs_a_record_tag_and_well_formed_markup() -> None:
    with pytest.raises(InvalidInput, match="record_tag is required"):
        list(xml_rows(PRODUCTS_XML.decode(), None))
    with pytest.raises(InvalidInput, match="malformed XML at line 1"):
        list(xml_rows("<a><item>x</a>", "item"))
    with pytest.raises(InvalidInput, match="no <row> elements"):
        list(xml_rows(PRODUCTS_XML.decode(), "row"))


def test_pdf_pages_become_rows_and_a_fake_pdf_is_refused() -> None:
    rows = list(pdf_rows(text_pdf(["Bolt catalogue page one", "ISO 4017 hex bolts"]), "catalog.pdf"))
    assert [(r.line, r.fields["name"], r.fields["text"]) for r in rows] == [
        (1, "catalog.pdf (page 1)", "Bolt catalogue page one"),
        (2, "catalog.pdf (page 2)", "ISO 4017 hex bolts"),
    ]
    with pytest.raises(InvalidInput, match="not a PDF"):
        list(pdf_rows(b"name,price\nBolt,1\n", "fake.pdf"))
    with pytest.raises(InvalidInput, match="unreadable PDF"):
        list(pdf_rows(b"%PDF-1.4\nthis is not really a pdf", "broken.pdf"))


def test_format_detection_by_name_then_content() -> None:
    assert detect_format("a.CSV", b"") == "csv"
    assert detect_format("a.jsonl", b"") == "ndjson"
    assert detect_format(None, b"%PDF-1.7") == "pdf"
    assert detect_format(None, b"  [{") == "json"
    assert detect_format(None, b'{"a":1}\n') == "ndjson"
    assert detect_format("upload", b"<?xml") == "xml"
    assert detect_format("upload", b"a,b") == "csv"
    with pytest.raises(InvalidInput, match="unknown file format"):
        detect_format("a.csv", b"", "xlsx")


def test_a_pretty_printed_single_object_is_one_record() -> None:
    source = parse_file(b'{\n  "name": "Bolt",\n  "price": 1\n}\n', filename="one.json")
    assert [r.fields for r in source.rows] == [{"name": "Bolt", "price": 1}]


def test_name_column_given_conventional_or_first_text() -> None:
    assert choose_name_column(["sku", "Product Name", "price"], {"sku": "A"}) == "Product Name"
    assert choose_name_column(["sku", "title"], {}, "TITLE") == "title"
    assert choose_name_column(["id", "label_text", "n"], {"id": 1, "label_text": "x", "n": 2}) == "label_text"
    with pytest.raises(InvalidInput, match="name_column 'nope' is not a column"):
        choose_name_column(["a", "b"], {}, "nope")
