"""A query that is a record's name finds that record first, in every mode; names that start with it
come next; one typo still finds a name; a part number's leading part finds it; each result says
why it ranked. Real PostgreSQL, the real model, both vector backends."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from core.embeddings.local_minilm import LocalMiniLMProvider
from tests.integration.embeddings.harness import Backend, Seeded, embed, seed
from tests.integration.hybrid.test_hybrid import ask, db, names

__all__ = ["db"]

# package-catalog names where full text prefers longer names that mention the query word
PACKAGES = [
    {"name": "types-pexpect", "summary": "Typing stubs for pexpect, the pexpect stub package"},
    {"name": "pexpect-serial", "summary": "pexpect with pyserial: control serial consoles with pexpect"},
    {"name": "pexpect", "summary": "Pexpect allows easy control of interactive console applications."},
    {"name": "ccxt", "summary": "A cryptocurrency trading API with more than 100 exchanges"},
    {"name": "ccxt-pro", "summary": "ccxt websocket edition: ccxt streaming for ccxt exchanges"},
    {"name": "PyYAML", "summary": "YAML parser and emitter for Python"},
    {"name": "pyyaml-include", "summary": "Extending PyYAML with a custom constructor for including YAML files"},
    {"name": "ruamel.yaml", "summary": "a YAML parser/emitter that supports roundtrip preservation of comments"},
    {"name": "Café Crème", "summary": "an accented product name"},
    {"name": "Hex bolt M8x40 zinc", "part_number": "ZN-M8x40", "summary": "hex bolt"},
    {"name": "Hex bolt M8-40 steel", "part_number": "ST-M8-40", "summary": "hex bolt"},
    {"name": "Machine screw M4x10", "part_number": "MS-M4x10", "summary": "screw"},
    {"name": "Machine screw M16x60", "part_number": "MS-M16x60", "summary": "screw"},
    {"name": "Machine screw M8x20", "part_number": "MS-M8x20", "summary": "screw"},
]
MODES = [None, "fulltext", "hybrid", "semantic"]


@pytest.fixture
def packages(backend: Backend, session: Session, sync_engine: sa.Engine, model: LocalMiniLMProvider) -> Seeded:
    seeded = seed(session, PACKAGES)
    assert embed(sync_engine, seeded, model, backend.index).indexed == len(PACKAGES)
    return seeded


@pytest.mark.parametrize("mode", MODES)
async def test_the_record_a_query_names_comes_first_at_1(db: AsyncSession, packages: Seeded, mode) -> None:
    for query, name in [("pexpect", "pexpect"), ("ccxt", "ccxt"), ("PyYAML", "PyYAML")]:
        response = await ask(db, packages, query, search_mode=mode)
        first = response.results[0]
        assert (first.name, first.score, first.match) == (name, 1.0, "exact_name"), (query, mode)
        assert all(h.score < 1.0 for h in response.results[1:])


@pytest.mark.parametrize("query", ["Py-YAML", "pyyaml", "py yaml", "PY_YAML", " pyYAML! "])
async def test_case_accents_and_separators_are_folded(db: AsyncSession, packages: Seeded, query: str) -> None:
    assert names(await ask(db, packages, query, search_mode="fulltext"))[0] == "PyYAML"
    cafe = await ask(db, packages, "cafe creme", search_mode="fulltext")
    assert (cafe.results[0].name, cafe.results[0].match) == ("Café Crème", "exact_name")


async def test_names_that_start_with_the_query_come_next(db: AsyncSession, packages: Seeded) -> None:
    response = await ask(db, packages, "pexpect", search_mode="fulltext")
    assert names(response)[:2] == ["pexpect", "pexpect-serial"]
    assert response.results[1].match == "name_prefix"
    assert 0.99 < response.results[1].score < 1.0
    # the stub package mentions the word most often, and still ranks below both names
    assert names(response).index("types-pexpect") == 2
    assert response.results[2].match == "fulltext"


async def test_one_typo_in_a_name_is_found_and_flagged(db: AsyncSession, packages: Seeded) -> None:
    response = await ask(db, packages, "pexpcet", search_mode="fulltext")
    assert names(response)[0] == "pexpect"
    assert response.results[0].match == "fuzzy"
    assert response.to_dict()["metadata"]["fuzzy_match_used"] is True
    # short queries are never fuzzy (one edit from four letters is almost anything)
    assert not (await ask(db, packages, "ccxz", search_mode="fulltext")).results
    # and a query that matches as written is not marked
    assert "fuzzy_match_used" not in (await ask(db, packages, "pexpect")).to_dict()["metadata"]


async def test_a_leading_part_of_a_part_number_finds_it(db: AsyncSession, packages: Seeded) -> None:
    found = names(await ask(db, packages, "M8", search_mode="fulltext"))
    assert {"Hex bolt M8x40 zinc", "Hex bolt M8-40 steel", "Machine screw M8x20"} <= set(found)
    assert not {"Machine screw M4x10", "Machine screw M16x60"} & set(found)
    screws = names(await ask(db, packages, "M8 screw", search_mode="fulltext"))
    assert screws[0] == "Machine screw M8x20"


async def test_a_leading_part_never_counts_as_an_exact_identifier(db: AsyncSession, packages: Seeded) -> None:
    # `ST-M8` is the leading part of ST-M8-40, not its identifier: found, but not at 1.0
    response = await ask(db, packages, "ST-M8", search_mode="fulltext")
    assert names(response)[0] == "Hex bolt M8-40 steel"
    assert response.results[0].score < 1.0
    exact = await ask(db, packages, "ST-M8-40", search_mode="fulltext")
    assert (exact.results[0].score, exact.results[0].match) == (1.0, "identifier")


async def test_hybrid_results_say_which_leg_ranked_them(db: AsyncSession, packages: Seeded) -> None:
    response = await ask(db, packages, "library to read yaml files", search_mode="hybrid")
    matches = {h.match for h in response.results}
    assert matches <= {"fulltext", "semantic", "name_prefix", "exact_name"}
    assert "semantic" in matches
    semantic = await ask(db, packages, "library to read yaml files", search_mode="semantic")
    assert {h.match for h in semantic.results} == {"semantic"}


async def test_a_lone_dash_in_a_title_does_not_exclude_the_next_word(db: AsyncSession, packages: Seeded) -> None:
    response = await ask(db, packages, "Hex bolt - steel", search_mode="fulltext")
    assert names(response)[0] == "Hex bolt M8-40 steel"
    excluded = await ask(db, packages, "Hex bolt -steel", search_mode="fulltext")
    assert "Hex bolt M8-40 steel" not in names(excluded)
