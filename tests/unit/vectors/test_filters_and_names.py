"""Filters, payloads and names of the vector index, without a store."""

from __future__ import annotations

import uuid

import pytest

from core.errors import InvalidInput
from core.vectors import Match, MatchAny, Range, VectorFilter, vector_alias_name, vector_collection_name
from core.vectors.base import check_name
from core.vectors.payloads import MAX_FILTERABLE_CHARS, build_point_payload, data_field
from core.vectors.pgvector import filter_jsonpaths, points_table
from core.vectors.qdrant import qdrant_filter


def test_names_are_per_generation_behind_one_alias_per_collection() -> None:
    tenant, collection = uuid.uuid4(), uuid.uuid4()
    alias = vector_alias_name(tenant, collection)
    assert vector_collection_name(tenant, collection, 3) == f"{alias}_g3"
    assert vector_collection_name(str(tenant), str(collection), 3) == f"{alias}_g3"
    assert check_name(alias) == alias
    assert vector_alias_name(uuid.uuid4(), collection) != alias
    assert len(points_table(vector_collection_name(tenant, collection, 10**6))) <= 63


def test_malformed_filters_are_refused() -> None:
    with pytest.raises(InvalidInput):
        Match("data.price; DROP", 1)
    with pytest.raises(InvalidInput):
        Match("x", {"nested": 1})  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        MatchAny("x", ())
    with pytest.raises(InvalidInput):
        MatchAny("x", (1.5,))  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        Range("x")
    with pytest.raises(InvalidInput):
        Range("x", gte="10")  # type: ignore[arg-type]


def test_filters_become_quoted_jsonpath_predicates() -> None:
    flt = VectorFilter((Match("data.color", 'a" || true || "'), Range("data.price", gte=1, lt=2.5)))
    assert filter_jsonpaths(flt) == [
        '$."data"."color" ? (@ == "a\\" || true || \\"")',
        '$."data"."price" ? (@ >= 1.0 && @ < 2.5)',
    ]
    assert filter_jsonpaths(VectorFilter((MatchAny("t", ("a", 2)),))) == ['$."t" ? (@ == "a" || @ == 2)']
    assert filter_jsonpaths(None) == [] and filter_jsonpaths(VectorFilter()) == []


def test_filters_become_qdrant_conditions() -> None:
    flt = qdrant_filter(
        VectorFilter((Match("a", "x"), Match("b", 1.5), MatchAny("c", (1, 2)), Range("d", lt=3)))
    )
    assert flt is not None
    a, b, c, d = flt.must
    assert a.match.value == "x"
    assert (b.range.gte, b.range.lte) == (1.5, 1.5)  # Qdrant matches floats by range only
    assert c.match.any == [1, 2]
    assert d.range.lt == 3
    assert qdrant_filter(VectorFilter()) is None


def test_payload_keeps_filterable_fields_only() -> None:
    tenant = uuid.uuid4()
    payload = build_point_payload(
        tenant_id=tenant,
        collection="parts",
        generation=2,
        record_type="bolt",
        status="active",
        collection_data={
            "price": 1.5,
            "tags": ["a", {"x": 1}, "b"],
            "spec": {"thread": "M8", "blob": "x" * (MAX_FILTERABLE_CHARS + 1)},
            "manual": "y" * (MAX_FILTERABLE_CHARS + 1),
            "nan": float("nan"),
            "none": None,
        },
    )
    assert payload == {
        "tenant_id": str(tenant),
        "collection": "parts",
        "generation": 2,
        "record_type": "bolt",
        "status": "active",
        "data": {"price": 1.5, "tags": ["a", "b"], "spec": {"thread": "M8"}},
    }
    assert data_field("price") == "data.price"
