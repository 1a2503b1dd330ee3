"""One suite, both backends: collections, points, filtered search, aliases, swaps, drops, faults."""

from __future__ import annotations

import socket
import threading
import uuid

import numpy as np
import pytest
import sqlalchemy as sa

from core.errors import Conflict, InvalidInput, NotFound, Unavailable
from core.settings import Settings
from core.vectors import Match, MatchAny, Range, VectorFilter, make_vector_index
from core.vectors.base import VectorIndex
from core.vectors.payloads import build_point_payload, data_field
from core.vectors.pgvector import PgVectorIndex
from core.vectors.qdrant import QdrantIndex

from .conftest import Names

DIM = 16
COLORS = ["red", "green", "blue", "black"]


def unit_rows(rng: np.random.Generator, n: int, dim: int = DIM) -> np.ndarray:
    rows = rng.normal(size=(n, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def catalog(
    index: VectorIndex, name: str, n: int = 600, seed: int = 7
) -> tuple[list[uuid.UUID], np.ndarray, list[dict]]:
    """`n` points with realistic payloads in collection `name`; returns (ids, vectors, payloads)."""
    rng = np.random.default_rng(seed)
    ids = [uuid.uuid4() for _ in range(n)]
    vectors = unit_rows(rng, n)
    payloads = [
        build_point_payload(
            tenant_id=uuid.UUID(int=1),
            collection="parts",
            generation=1,
            record_type="fastener" if i % 3 else "pump",
            status="active",
            collection_data={
                "color": COLORS[i % 4],
                "price": i,
                "weight_kg": i / 10,
                "in_stock": i % 2 == 0,
                "tags": ["rare"] if i % 50 == 0 else ["common", f"batch{i % 5}"],
                "notes": "long prose " * 100,
            },
        )
        for i in range(n)
    ]
    index.create_collection(name, DIM)
    assert index.upsert(name, ids, vectors, payloads) == n
    return ids, vectors, payloads


def test_collection_lifecycle_and_point_crud(index: VectorIndex, names: Names) -> None:
    name = names.generation(1)
    assert not index.collection_exists(name)
    index.create_collection(name, DIM)
    index.create_collection(name, DIM)  # idempotent
    assert index.collection_exists(name)
    assert name in index.list_collections(prefix=names.alias)
    assert index.dimension(name) == DIM
    with pytest.raises(Conflict):
        index.create_collection(name, DIM + 1)

    rng = np.random.default_rng(1)
    ids = [uuid.uuid4() for _ in range(5)]
    vectors = unit_rows(rng, 5)
    assert index.upsert(name, ids, vectors, [{"n": i} for i in range(5)]) == 5
    assert index.count(name) == 5
    assert index.payloads(name, ids[:2]) == {ids[0]: {"n": 0}, ids[1]: {"n": 1}}

    # upsert replaces by id; a repeated id in one call keeps the last occurrence
    new_vec = unit_rows(rng, 1)
    index.upsert(name, [ids[0], ids[0]], np.vstack([vectors[1], new_vec]), [{"n": "x"}, {"n": "y"}])
    assert index.count(name) == 5
    assert index.payloads(name, [ids[0]]) == {ids[0]: {"n": "y"}}
    assert index.search(name, new_vec[0], limit=1)[0].id == ids[0]

    index.delete(name, [ids[1], uuid.uuid4()])
    assert index.count(name) == 4
    assert ids[1] not in {h.id for h in index.search(name, vectors[1], limit=5)}


def test_search_ranks_by_cosine_similarity(index: VectorIndex, names: Names) -> None:
    name = names.generation(1)
    ids, vectors, _ = catalog(index, name)
    hits = index.search(name, vectors[42], limit=10)
    assert len(hits) == 10
    assert hits[0].id == ids[42]
    assert hits[0].score == pytest.approx(1.0, abs=1e-4)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    exact = np.argsort(-(vectors @ vectors[42]))[:10]
    assert len({ids[i] for i in exact} & {h.id for h in hits}) >= 9
    # the score is the cosine similarity, for a non-normalised query as well
    assert hits[1].score == pytest.approx(float(vectors[exact[1]] @ vectors[42]), abs=1e-3)
    assert index.search(name, vectors[42] * 3, limit=1)[0].score == pytest.approx(1.0, abs=1e-4)


@pytest.mark.parametrize(
    ("flt", "predicate"),
    [
        (VectorFilter((Match(data_field("color"), "blue"),)), lambda p: p["data"]["color"] == "blue"),
        (VectorFilter((Match(data_field("in_stock"), True),)), lambda p: p["data"]["in_stock"] is True),
        (VectorFilter((Match("record_type", "pump"),)), lambda p: p["record_type"] == "pump"),
        (VectorFilter((Match(data_field("weight_kg"), 4.2),)), lambda p: p["data"]["weight_kg"] == 4.2),
        (
            VectorFilter((MatchAny(data_field("color"), ("red", "black")),)),
            lambda p: p["data"]["color"] in ("red", "black"),
        ),
        (VectorFilter((MatchAny(data_field("price"), (3, 5, 700)),)), lambda p: p["data"]["price"] in (3, 5)),
        (
            VectorFilter((Range(data_field("price"), gte=100, lt=130),)),
            lambda p: 100 <= p["data"]["price"] < 130,
        ),
        (VectorFilter((Range(data_field("weight_kg"), gt=55.5),)), lambda p: p["data"]["weight_kg"] > 55.5),
        # a list field matches when any element matches; selective: 12 of 600 points
        (VectorFilter((Match(data_field("tags"), "rare"),)), lambda p: "rare" in p["data"]["tags"]),
        (
            VectorFilter(
                (
                    Match(data_field("color"), "green"),
                    Range(data_field("price"), lte=300),
                    Match(data_field("tags"), "batch1"),
                )
            ),
            lambda p: (
                p["data"]["color"] == "green" and p["data"]["price"] <= 300 and "batch1" in p["data"]["tags"]
            ),
        ),
        # types are strict: the string "5" is not the number 5, and text is never in a numeric range
        (VectorFilter((Match(data_field("price"), "5"),)), lambda p: False),
        (VectorFilter((Range(data_field("color"), gte=0),)), lambda p: False),
        (VectorFilter((Match(data_field("missing"), "x"),)), lambda p: False),
    ],
)
def test_filters_apply_inside_the_vector_search(index: VectorIndex, names: Names, flt, predicate) -> None:
    name = names.generation(1)
    ids, vectors, payloads = catalog(index, name)
    matching = [i for i, p in enumerate(payloads) if predicate(p)]
    query = vectors[11]
    hits = index.search(name, query, limit=10, filter=flt)
    # a selective filter still fills the page, with matching points only, nearest first
    assert len(hits) == min(10, len(matching))
    assert {h.id for h in hits} <= {ids[i] for i in matching}
    if matching:
        best = max(matching, key=lambda i: float(vectors[i] @ query))
        assert hits[0].id == ids[best]
    assert index.count(name, flt) == len(matching)


def test_aliases_point_move_and_resolve(index: VectorIndex, names: Names) -> None:
    g1, g2 = names.generation(1), names.generation(2)
    ids1, vectors1, _ = catalog(index, g1, n=50, seed=1)
    ids2, _, _ = catalog(index, g2, n=30, seed=2)
    assert index.resolve_alias(names.alias) is None
    index.set_alias(names.alias, g1)
    assert index.resolve_alias(names.alias) == g1
    assert index.aliases()[names.alias] == g1
    assert index.count(names.alias) == 50
    assert index.dimension(names.alias) == DIM
    assert index.search(names.alias, vectors1[3], limit=1)[0].id == ids1[3]

    assert index.swap_alias(names.alias, g2, expected=g1) == g1
    assert index.count(names.alias) == 30
    assert {h.id for h in index.search(names.alias, vectors1[3], limit=30)} == set(ids2)
    # compare-and-swap: a stale expectation loses
    with pytest.raises(Conflict):
        index.swap_alias(names.alias, g1, expected=g1)
    assert index.resolve_alias(names.alias) == g2
    with pytest.raises(NotFound):
        index.swap_alias(names.alias, names.generation(9))
    with pytest.raises(Conflict):  # a collection's name cannot become an alias
        index.set_alias(g1, g2)

    assert index.delete_alias(names.alias) is True
    assert index.delete_alias(names.alias) is False
    assert index.resolve_alias(names.alias) is None
    with pytest.raises(NotFound):
        index.search(names.alias, vectors1[0])
    assert index.count(g2) == 30  # the collection outlives its alias


def test_search_through_the_alias_sees_one_generation_while_swaps_happen(
    index: VectorIndex, names: Names
) -> None:
    g1, g2 = names.generation(1), names.generation(2)
    ids1, vectors1, _ = catalog(index, g1, n=200, seed=1)
    ids2, _, _ = catalog(index, g2, n=200, seed=2)
    set1, set2 = set(ids1), set(ids2)
    index.set_alias(names.alias, g1)
    stop = threading.Event()
    seen: dict[str, int] = {"old": 0, "new": 0}
    failures: list[str] = []

    def searcher(seed: int) -> None:
        rng = np.random.default_rng(seed)
        for _ in range(2000):
            if stop.is_set():
                return
            try:
                got = {h.id for h in index.search(names.alias, vectors1[rng.integers(200)], limit=20)}
            except Exception as exc:  # any failed search fails the test
                failures.append(repr(exc))
                return
            if got <= set1:
                seen["old"] += 1
            elif got <= set2:
                seen["new"] += 1
            else:
                failures.append(f"mixed response: {len(got & set1)} old + {len(got & set2)} new")

    threads = [threading.Thread(target=searcher, args=(s,)) for s in range(2)]
    for t in threads:
        t.start()
    current = g1
    for _ in range(40):
        target = g2 if current == g1 else g1
        assert index.swap_alias(names.alias, target, expected=current) == current
        current = target
    stop.set()
    for t in threads:
        t.join()
    assert failures == []
    assert seen["old"] + seen["new"] > 0


def test_an_aliased_collection_cannot_be_dropped_but_a_retired_one_can(
    index: VectorIndex, names: Names
) -> None:
    g1, g2 = names.generation(1), names.generation(2)
    _, vectors, _ = catalog(index, g1, n=20)
    catalog(index, g2, n=20, seed=3)
    index.set_alias(names.alias, g1)
    with pytest.raises(Conflict):
        index.drop_collection(g1)
    index.swap_alias(names.alias, g2)
    assert index.drop_collection(g1) is True
    assert index.drop_collection(g1) is False
    assert not index.collection_exists(g1)
    assert g1 not in index.list_collections(prefix=names.alias)
    with pytest.raises(NotFound):
        index.search(g1, vectors[0])
    with pytest.raises(NotFound):
        index.count(g1)
    with pytest.raises(NotFound):
        index.upsert(g1, [uuid.uuid4()], vectors[:1])
    assert index.count(names.alias) == 20


def test_bad_input_is_refused(index: VectorIndex, names: Names) -> None:
    name = names.generation(1)
    index.create_collection(name, DIM)
    with pytest.raises(InvalidInput):
        index.upsert(name, [uuid.uuid4()], np.ones((1, DIM + 1), dtype=np.float32))
    with pytest.raises(InvalidInput):
        index.upsert(name, ["not-a-uuid"], np.ones((1, DIM), dtype=np.float32))
    with pytest.raises(InvalidInput):
        index.upsert(name, [uuid.uuid4()], np.full((1, DIM), np.nan, dtype=np.float32))
    with pytest.raises(InvalidInput):
        index.create_collection("Robert'); DROP TABLE records;--", DIM)
    with pytest.raises(InvalidInput):
        index.search(name, np.ones(DIM + 2), limit=3)
    with pytest.raises(InvalidInput):
        index.search(name, np.ones(DIM), limit=0)
    assert index.count(name) == 0


def test_hostile_filter_values_are_data_not_syntax(index: VectorIndex, names: Names) -> None:
    name = names.generation(1)
    index.create_collection(name, DIM)
    tricky = ['a" || @ != "', "it's", "back\\slash", "line\nbreak", "日本"]
    ids = [uuid.uuid4() for _ in tricky]
    index.upsert(name, ids, unit_rows(np.random.default_rng(5), len(tricky)), [{"v": t} for t in tricky])
    for point_id, value in zip(ids, tricky, strict=True):
        hits = index.search(name, np.ones(DIM), limit=10, filter=VectorFilter((Match("v", value),)))
        assert [h.id for h in hits] == [point_id]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("backend", ["pgvector", "qdrant"])
def test_an_unreachable_store_raises_unavailable(backend: str) -> None:
    port = _closed_port()
    if backend == "pgvector":
        index: VectorIndex = PgVectorIndex(f"postgresql://postgres@127.0.0.1:{port}/kariz")
    else:
        index = QdrantIndex(f"http://127.0.0.1:{port}")
    try:
        with pytest.raises(Unavailable):
            index.create_collection("t1_c1_g1", DIM)
        with pytest.raises(Unavailable):
            index.search("t1_c1", np.ones(DIM), limit=5)
        with pytest.raises(Unavailable):
            index.swap_alias("t1_c1", "t1_c1_g2")
    finally:
        index.close()


def test_pgvector_alias_move_commits_or_rolls_back_with_the_callers_transaction(
    pgvector_index: PgVectorIndex, sync_engine: sa.Engine, names: Names
) -> None:
    g1, g2 = names.generation(1), names.generation(2)
    catalog(pgvector_index, g1, n=10)
    catalog(pgvector_index, g2, n=12, seed=4)
    pgvector_index.set_alias(names.alias, g1)
    assert pgvector_index.transactional_aliases

    with sync_engine.connect() as conn:
        tx = conn.begin()
        assert pgvector_index.swap_alias(names.alias, g2, expected=g1, transaction=conn) == g1
        # not yet committed: searches elsewhere still see the old generation
        assert pgvector_index.count(names.alias) == 10
        tx.rollback()
    assert pgvector_index.resolve_alias(names.alias) == g1

    with sync_engine.begin() as conn:
        pgvector_index.swap_alias(names.alias, g2, expected=g1, transaction=conn)
    assert pgvector_index.count(names.alias) == 12


def test_qdrant_swap_is_immediate_and_undone_by_swapping_back(names: Names) -> None:
    index = QdrantIndex(":memory:")
    catalog(index, names.generation(1), n=10)
    catalog(index, names.generation(2), n=12, seed=4)
    index.set_alias(names.alias, names.generation(1))
    assert not index.transactional_aliases
    previous = index.swap_alias(names.alias, names.generation(2))
    assert index.count(names.alias) == 12
    index.swap_alias(names.alias, previous, expected=names.generation(2))
    assert index.count(names.alias) == 10


def test_the_factory_follows_the_settings(database_url: str, tmp_path) -> None:
    qdrant = make_vector_index(Settings(vector_backend="qdrant", qdrant_url=":memory:", data_dir=tmp_path))
    assert isinstance(qdrant, QdrantIndex)
    qdrant.close()
    local = make_vector_index(Settings(qdrant_url=str(tmp_path / "qdrant"), data_dir=tmp_path))
    assert isinstance(local, QdrantIndex)
    local.create_collection("t1_c1_g1", 4)
    local.close()
    pg = make_vector_index(Settings(database_url=database_url, data_dir=tmp_path))
    assert isinstance(pg, PgVectorIndex)
    assert pg.collection_exists("t1_c1_g1") is False
    pg.close()


def test_a_deferred_index_gives_the_same_answers_before_and_after_it_is_built(
    index: VectorIndex, names: Names
) -> None:
    name = names.generation(1)
    index.create_collection(name, DIM, defer_index=True)
    rng = np.random.default_rng(9)
    ids = [uuid.uuid4() for _ in range(300)]
    vectors = unit_rows(rng, 300)
    index.upsert(name, ids, vectors, [{"i": i} for i in range(300)])
    flt = VectorFilter((Range("i", lt=100),))
    before = index.search(name, vectors[5], limit=5, filter=flt)
    assert before[0].id == ids[5]
    index.build_index(name)
    assert index.index_ready(name)
    assert index.build_index(name) is False  # idempotent
    after = index.search(name, vectors[5], limit=5, filter=flt)
    assert [h.id for h in after] == [h.id for h in before]
