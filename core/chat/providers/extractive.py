"""The offline default: a deterministic, grounded answerer that needs no model at all.

It answers with the sentences of the retrieved sources that share the most content words with the
question, each followed by its source's `[n]`, streamed a few words at a time. When no sentence
shares at least a third of the question's content words, it says it found nothing and cites nothing.

Tools are routed by rules, in this order (the first that matches wins; a tool is called only if it
was offered):
1. a record id (a UUID) in the question -> `get_record(id)`;
2. "collections" / "datasets" with list, which, what or my -> `list_collections()`;
3. a collection's name with "how many", "count", "stats" or "statistics" -> `collection_stats(name)`;
4. a collection's name with "search", "find", "look up", "show" or "list" -> `search_records(name,
   query = the question's other content words, limit 5)`.
After the tools answered, their results are summed up first, then any grounded sentences.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

from core.chat.provider import (
    ChatModel,
    Finish,
    ModelEvent,
    ModelRequest,
    Source,
    TextDelta,
    ToolCallRequest,
    ToolOutcome,
    Usage,
)
from core.chat.tokens import count_tokens

NOTHING_FOUND = ("I could not find anything about this in your documents, so I cannot answer it "
                 "from them.")
MAX_SENTENCES = 3
WORDS_PER_DELTA = 4

_STOPWORDS = frozenset(
    ["a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any", "are", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "herself", "him", "himself", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "me", "more", "most", "my", "myself", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "our", "ours", "ourselves", "out", "over", "own", "same", "she", "should", "so", "some", "such", "than", "that", "the", "their", "theirs", "them", "themselves", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your", "yours", "yourself", "yourselves", "tell", "please", "give", "show", "explain", "describe", "know", "say", "said"]
)
_WORD = re.compile(r"[a-z0-9]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)
_COLLECTIONS_WORDS = re.compile(r"\b(collections|datasets|verticals)\b", re.I)
_LISTING = re.compile(r"\b(list|which|what|my|show|all)\b", re.I)
_STATS = re.compile(r"\b(how many|count|stats|statistics)\b", re.I)
_SEARCH = re.compile(r"\b(search|find|look up|lookup|show|list)\b", re.I)
_TOOL_WORDS = frozenset({"search", "find", "look", "lookup", "list", "count", "stats", "statistics",
                         "many", "records", "record", "collection", "items", "entries"})


def _stem(word: str) -> str:
    for suffix in ("ing", "ies", "es", "ed", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def content_terms(text: str) -> list[str]:
    """The question's content words, lower-cased and stemmed, in order, without repeats."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(text.lower()):
        if len(word) > 1 and word not in _STOPWORDS:
            seen.setdefault(_stem(word), None)
    return list(seen)


def best_sentences(question: str, sources: list[Source], limit: int = MAX_SENTENCES) -> list[tuple[Source, str]]:
    """Up to `limit` (source, sentence) pairs that share enough of the question's content words,
    in source order; empty when nothing is relevant."""
    terms = set(content_terms(question))
    if not terms:
        return []
    needed = max(1, -(-len(terms) // 3))  # a third of the content words, rounded up
    scored: list[tuple[float, int, int, Source, str]] = []
    for source in sources:
        for position, sentence in enumerate(_SENTENCE_END.split(source.text.strip())):
            sentence = " ".join(sentence.split())
            if len(sentence) < 3:
                continue
            words = {_stem(w) for w in _WORD.findall(sentence.lower())}
            matched = len(terms & words)
            if matched < min(needed, len(terms)):
                continue
            scored.append((matched + 0.01 * source.score, source.n, position, source, sentence))
    scored.sort(key=lambda item: (-item[0], item[1], item[2]))
    chosen: list[tuple[int, int, Source, str]] = []
    seen: set[str] = set()
    for _, n, position, source, sentence in scored:
        if sentence.lower() in seen:
            continue
        seen.add(sentence.lower())
        chosen.append((n, position, source, sentence))
        if len(chosen) == limit:
            break
    chosen.sort(key=lambda item: (item[0], item[1]))
    return [(source, sentence) for _, _, source, sentence in chosen]


def _mentioned_collection(question: str, collections: list[str]) -> str | None:
    lowered = question.lower()
    for name in sorted(collections, key=len, reverse=True):
        if re.search(rf"(?<![\w-]){re.escape(name.lower())}(?![\w-])", lowered):
            return name
    return None


def route_tools(request: ModelRequest) -> list[ToolCallRequest]:
    """The tool calls the rules above choose for the question (none when no rule matches)."""
    offered = {tool.name for tool in request.tools}
    question = request.question
    calls: list[tuple[str, dict[str, Any]]] = []
    record_id = _UUID.search(question)
    collection = _mentioned_collection(question, request.collections)
    if record_id and "get_record" in offered:
        calls.append(("get_record", {"id": record_id.group(0)}))
    elif _COLLECTIONS_WORDS.search(question) and _LISTING.search(question) and "list_collections" in offered:
        calls.append(("list_collections", {}))
    elif collection and _STATS.search(question) and "collection_stats" in offered:
        calls.append(("collection_stats", {"collection": collection}))
    elif collection and _SEARCH.search(question) and "search_records" in offered:
        name_terms = set(content_terms(collection))
        words = [w for w in content_terms(question) if w not in name_terms and w not in _TOOL_WORDS]
        query = " ".join(words) or collection
        calls.append(("search_records", {"collection": collection, "query": query, "limit": 5}))
    return [ToolCallRequest(f"call_{uuid.uuid5(uuid.NAMESPACE_URL, question + name).hex[:12]}", name, args)
            for name, args in calls]


def summarise_tool(outcome: ToolOutcome) -> str:
    """One or two sentences that tell what a tool returned."""
    if not outcome.ok:
        return f"The {outcome.name} tool failed: {outcome.output.get('error', 'unknown error')}."
    out = outcome.output
    if outcome.name == "list_collections":
        items = out.get("collections", [])
        if not items:
            return "You have no collections yet."
        listed = ", ".join(f"{c['name']} ({c['records']} records)" for c in items)
        return f"You have {len(items)} collection{'s' if len(items) != 1 else ''}: {listed}."
    if outcome.name == "collection_stats":
        return (f"Collection {out['collection']} has {out['records']} active records in generation "
                f"{out['generation']} ({out['indexed']} indexed for semantic search).")
    if outcome.name == "search_records":
        hits = out.get("results", [])
        if not hits:
            return f"No records in {out['collection']} match \"{out['query']}\"."
        names = "; ".join(h["name"] for h in hits)
        return f"Found {len(hits)} record{'s' if len(hits) != 1 else ''} in {out['collection']}: {names}."
    if outcome.name == "get_record":
        data = out.get("collectionData") or {}
        fields = ", ".join(f"{k}: {v}" for k, v in list(data.items())[:8])
        return (f"Record {out['name']} ({out['recordType']}) in {out['collection']}"
                + (f" has {fields}." if fields else "."))
    return f"The {outcome.name} tool returned a result."


def _cite(sentence: str, n: int) -> str:
    """`sentence` with its source marker before the closing punctuation: "... days [1]." """
    if sentence[-1] in ".!?":
        return f"{sentence[:-1]} [{n}]{sentence[-1]}"
    return f"{sentence} [{n}]."


def compose_answer(request: ModelRequest) -> str:
    """The whole answer text for `request` (deterministic)."""
    parts = [summarise_tool(o) for round_ in request.tool_rounds for o in round_]
    grounded = best_sentences(request.question, request.sources)
    parts.extend(_cite(sentence, source.n) for source, sentence in grounded)
    if not parts:
        return NOTHING_FOUND
    return " ".join(parts)


def prompt_tokens(request: ModelRequest) -> int:
    """What the prompt would cost a real model: system, history, question, sources, tool results."""
    text = [request.system, request.question, *(t.content for t in request.history),
            *(s.text for s in request.sources)]
    text.extend(str(o.output) for round_ in request.tool_rounds for o in round_)
    return sum(count_tokens(t) for t in text)


class ExtractiveChat(ChatModel):
    """Grounded, deterministic, offline."""

    name = "extractive"

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelEvent]:
        if not request.tool_rounds:
            calls = route_tools(request)
            if calls:
                for call in calls:
                    yield call
                yield Usage(prompt_tokens(request), sum(count_tokens(str(c.arguments)) for c in calls))
                yield Finish("tool_calls")
                return
        answer = compose_answer(request)
        words = answer.split(" ")
        for start in range(0, len(words), WORDS_PER_DELTA):
            chunk = " ".join(words[start:start + WORDS_PER_DELTA])
            yield TextDelta(chunk if start + WORDS_PER_DELTA >= len(words) else chunk + " ")
        yield Usage(prompt_tokens(request), count_tokens(answer))
        yield Finish("stop")
