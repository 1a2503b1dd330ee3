"""Citations checked against the sources sent (markers split across deltas, unknown numbers
stripped) and the extractive model's grounding and tool rules."""

from __future__ import annotations

from core.chat.citations import CitationFilter
from core.chat.provider import ModelRequest, Source, ToolOutcome
from core.chat.providers.extractive import NOTHING_FOUND, compose_answer, route_tools
from core.chat.tools import TOOLS


def source(n: int, text: str) -> Source:
    return Source(
        n=n, asset_id=f"asset-{n}", file_name=f"f{n}.txt", page=n, chunk_id=f"c{n}", score=1.0, text=text
    )


def test_known_markers_pass_once_cited_and_unknown_ones_are_stripped() -> None:
    f = CitationFilter({1: source(1, "a"), 2: source(2, "b")})
    out, cited = [], []
    for piece in ["Opens at 7 [", "1]. Closed on Sunday [7", "]. Vests [2] and again [1]", "."]:
        text, new = f.feed(piece)
        out.append(text)
        cited.extend(new)
    text, new = f.flush()
    out.append(text)
    assert "".join(out) == "Opens at 7 [1]. Closed on Sunday. Vests [2] and again [1]."
    assert cited == [{"n": 1, "assetId": "asset-1", "page": 1}, {"n": 2, "assetId": "asset-2", "page": 2}]


def test_an_unfinished_marker_at_the_end_is_plain_text() -> None:
    f = CitationFilter({1: source(1, "a")})
    first, _ = f.feed("see [1")
    rest, cited = f.flush()
    assert first + rest == "see [1" and cited == []


def test_the_answer_is_built_from_the_best_sentences_with_their_markers() -> None:
    sources = [
        source(1, "The warehouse opens at 7 am. Lunch is at noon."),
        source(2, "Visitors wear a yellow vest at the warehouse."),
    ]
    request = ModelRequest(system="", history=[], question="When does the warehouse open?", sources=sources)
    answer = compose_answer(request)
    assert answer.startswith("The warehouse opens at 7 am [1].")
    assert "Lunch" not in answer


def test_nothing_relevant_means_nothing_found() -> None:
    request = ModelRequest(
        system="",
        history=[],
        question="What is the capital of Mongolia?",
        sources=[source(1, "The warehouse opens at 7 am.")],
    )
    assert compose_answer(request) == NOTHING_FOUND


def test_tool_rules() -> None:
    def calls(question: str, tools=TOOLS):
        req = ModelRequest(
            system="", history=[], question=question, sources=[], tools=tools, collections=["parts"]
        )
        return [(c.name, c.arguments) for c in route_tools(req)]

    assert calls("Which collections do I have?") == [("list_collections", {})]
    assert calls("How many records are in parts?") == [("collection_stats", {"collection": "parts"})]
    assert calls("Search parts for hex bolt") == [
        ("search_records", {"collection": "parts", "query": "hex bolt", "limit": 5})
    ]
    rid = "0b5c6a1e-4a57-4d7e-9a43-bb2e1f0a9d11"
    assert calls(f"Show record {rid}") == [("get_record", {"id": rid})]
    assert calls("When does the warehouse open?") == []
    assert calls("Which collections do I have?", tools=[]) == []


def test_tool_results_are_summed_up_first() -> None:
    outcome = ToolOutcome(
        "c1", "list_collections", {}, True, {"collections": [{"name": "parts", "records": 3}]}
    )
    request = ModelRequest(
        system="", history=[], question="Which collections do I have?", sources=[], tool_rounds=[[outcome]]
    )
    assert compose_answer(request) == "You have 1 collection: parts (3 records)."


def test_a_stripped_marker_that_is_a_delta_of_its_own_leaves_no_double_space() -> None:
    f = CitationFilter({1: source(1, "a")})
    out = [
        f.feed(piece)[0] for piece in ["Opens", " at 7", " [9]", " and closes", " [1]", " [3]", " at 5", "."]
    ]
    out.append(f.flush()[0])
    assert "".join(out) == "Opens at 7 and closes [1] at 5."
