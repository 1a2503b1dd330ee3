"""Search requests: validation, classification, typed filters and sort, cache, formats (no I/O)."""

from __future__ import annotations

import uuid

import pytest
import yaml

from core.errors import InvalidInput
from core.search.cache import MemorySearchCache, cache_key
from core.search.classify import classify_query
from core.search.field_indexes import field_expression, index_name, wanted_fields
from core.search.filters import Condition, Sort, default_filter_sort, parse_filters, parse_sort
from core.search.request import SearchHit, SearchRequest, SearchResponse

CATALOG = {
    "price_eur": ["number"],
    "in_stock": ["boolean"],
    "country": ["string"],
    "released": ["date"],
    "size": ["number", "string"],
    "temp_max": ["number"],
    "tags": ["array"],
}


@pytest.mark.parametrize(
    ("query", "kind", "identifier"),
    [
        ("SS-M8-40-A2", "identifier", "SSM840A2"),
        ("ss m8 40 a2", "identifier", "SSM840A2"),
        ("ISO 4017", "identifier", "ISO4017"),
        ("M8 bolt", "keyword", None),
        ("stainless steel", "keyword", None),
        (None, "keyword", None),
    ],
)
def test_queries_are_identifiers_or_keywords(query: str | None, kind: str, identifier: str | None) -> None:
    plan = classify_query(query)
    assert (plan.query_type, plan.identifier) == (kind, identifier)


def test_filters_are_typed_by_the_fields_they_name() -> None:
    conditions = parse_filters(
        {
            "price_eur_max": "1.5",
            "price_eur_min": 0,
            "in_stock": "true",
            "country": "DE,FR",
            "released_gt": "2026-01-01",
            "size": "8",
            "temp_max": 40,
            "country_in": ["IT"],
        },
        CATALOG,
    )
    assert conditions == [
        # the field holds numbers only: the comparison needs no type check
        Condition("price_eur", "<=", (1.5,), "number", single_kind=True),
        Condition("price_eur", ">=", (0,), "number", single_kind=True),
        Condition("in_stock", "eq", (True,)),
        Condition("country", "in", ("DE", "FR")),
        Condition("released", ">", ("2026-01-01",), "string", single_kind=True),
        Condition("size", "eq", (8,)),
        # a field whose own name ends in _max is the field, not a range
        Condition("temp_max", "eq", (40,)),
        Condition("country", "in", ("IT",)),
    ]


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"colour": "red"}, "unknown filter field 'colour'"),
        ({"price_eur_max": "cheap"}, "expects a number"),
        ({"in_stock": "maybe"}, "expects true or false"),
        ({"country_min": "DE"}, "ranges need numbers or dates"),
        ({"released_min": "March"}, "expects an ISO date"),
        ({"price_eur": None}, "single value"),
        ({"tags": "x"}, "cannot match a field holding array"),
        ({"price_eur": {"$gt": 1}}, "single value"),
        ({"country": []}, "empty list"),
        ({"'; DROP TABLE records; --": 1}, "unknown filter field"),
    ],
)
def test_bad_filter_names_and_types_are_refused(filters: dict, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_filters(filters, CATALOG)


def test_sort_on_columns_and_data_fields_only() -> None:
    assert parse_sort("-price_eur", CATALOG) == Sort("price_eur", True, False)
    assert parse_sort("name", CATALOG) == Sort("name", False, True)
    assert parse_sort("-updated_at", CATALOG) == Sort("updated_at", True, True)
    assert parse_sort(None, CATALOG) is None
    with pytest.raises(InvalidInput, match="cannot sort by 'weight'"):
        parse_sort("weight", CATALOG)


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (SearchRequest(query="x" * 501), "maximum is 500"),
        (SearchRequest(), "query is required"),
        (SearchRequest(query=""), "1-500 characters"),
        (SearchRequest(query="a", limit=0), "limit"),
        (SearchRequest(query="a", limit=101), "limit"),
        (SearchRequest(query="a", offset=-1), "offset"),
        (SearchRequest(query="a", format="xml"), "format"),
        (SearchRequest(query="a", filters=[1]), "filters"),
    ],
)
def test_requests_outside_the_contract_are_refused(request_: SearchRequest, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        request_.validated()


def test_a_query_of_exactly_500_characters_and_filter_only_requests_are_fine() -> None:
    assert SearchRequest(query="x" * 500).validated().query == "x" * 500
    assert SearchRequest(query="  ", filters={"a": 1}).validated().query is None


def _response(fmt: str) -> SearchResponse:
    hit = SearchHit(
        "id-1",
        "Bolt",
        1.0,
        "manufacturing",
        "fastener",
        {"price": 0.1},
        None,
        "file_upload",
        "2026-03-05T14:30:00Z",
    )
    return SearchResponse(
        [hit],
        0,
        20,
        False,
        "identifier",
        "identifier",
        3.2,
        1,
        False,
        False,
        {"classify_ms": 0.1, "search_ms": 1.0, "hydrate_ms": 0.5},
        fmt,
    )


def test_formats_json_compact_and_yaml_carry_the_contract_fields() -> None:
    full = _response("json").to_dict()
    assert set(full["results"][0]) == {
        "record_id",
        "name",
        "score",
        "collection",
        "record_type",
        "collection_data",
        "description_llm",
        "source_type",
        "updated_at",
        "match",  # why it ranked
    }
    assert set(full["metadata"]) == {
        "search_mode",
        "query_type",
        "processing_time_ms",
        "total_estimate",
        "zero_result_fallback_used",
        "cache_hit",
        "timings",
    }
    assert full["pagination"] == {"offset": 0, "limit": 20, "has_more": False}
    compact = _response("compact").to_dict()
    assert set(compact["results"][0]) == {"record_id", "name", "score", "collection_data"}
    body, media_type = _response("yaml").render()
    assert media_type == "application/yaml"
    assert yaml.safe_load(body) == full


async def test_memory_cache_keeps_entries_per_collection_version() -> None:
    cache = MemorySearchCache(max_entries=2)
    key_v1 = cache_key("t", "c", 1, 1, "req")
    assert key_v1 != cache_key("t", "c", 1, 2, "req") != cache_key("t2", "c", 1, 1, "req")
    await cache.set(key_v1, {"x": 1}, ttl=60)
    assert await cache.get(key_v1) == {"x": 1}
    await cache.set("k2", {}, ttl=60)
    await cache.set("k3", {}, ttl=60)
    assert await cache.get(key_v1) is None  # evicted: least recently used
    await cache.set("k4", {"y": 1}, ttl=-1)
    assert await cache.get("k4") is None  # expired


def test_a_lone_dash_separates_words_and_a_leading_dash_still_excludes() -> None:
    from core.search.classify import classify_query

    # "Tomcat 10 - Servlet engine" is a title, not "Tomcat 10 and NOT Servlet"
    assert "-" not in classify_query("Apache Tomcat 10 - Servlet engine -- admin").text
    assert classify_query("bolt -zinc").text == "bolt -zinc"
    assert classify_query("x-response-time").text == "x-response-time"


def test_a_mixed_field_keeps_its_type_check_and_indexed_fields_are_marked() -> None:
    [mixed] = parse_filters({"size_max": 10}, CATALOG)
    assert (mixed.json_type, mixed.single_kind, mixed.indexed) == ("number", False, False)
    price, country = parse_filters({"price_eur_max": 1, "country": "DE"}, CATALOG, frozenset({"price_eur", "country"}))
    assert price.indexed and country.indexed
    assert parse_sort("-price_eur", CATALOG, frozenset({"price_eur"})) == Sort("price_eur", True, False, True)


def test_filter_only_results_follow_the_first_range_filter() -> None:
    conditions = parse_filters({"country": "DE", "price_eur_max": 5, "released_min": "2026-01-01"}, CATALOG)
    assert default_filter_sort(conditions) == Sort("price_eur", False, False)
    assert default_filter_sort(parse_filters({"country": "DE"}, CATALOG)) is None


def test_field_indexes_take_single_kind_fields_with_plain_names_typed_first() -> None:
    catalog = {
        **CATALOG,
        "colour": ["string"],
        "weird'name": ["number"],
        "notes": ["null", "string"],
    }
    assert wanted_fields(catalog, 8) == ["price_eur", "temp_max", "released", "in_stock", "colour", "country", "notes"]
    assert wanted_fields(catalog, 2) == ["price_eur", "temp_max"]
    assert field_expression("price_eur") == "(r.collection_data -> 'price_eur')"
    with pytest.raises(ValueError):
        field_expression("x'); DROP TABLE records; --")
    assert index_name(uuid.UUID(int=1), 1, "a") != index_name(uuid.UUID(int=1), 2, "a")
