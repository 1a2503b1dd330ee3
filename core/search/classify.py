"""Query classification: an identifier (part number, SKU, standard, code) or keywords."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.records.identifiers import looks_like_identifier, normalize_identifier

# a dash standing alone between words ("Tomcat 10 - Servlet engine") separates them; full text's
# web syntax would read it as NOT on the next word (`-word` right before a word still excludes it)
_LONE_DASH = re.compile(r"(?:(?<=\s)|^)-+(?=\s|$)")


def keyword_text(query: str) -> str:
    """The query as full text reads it: lone dashes are separators, not exclusions."""
    return _LONE_DASH.sub(" ", query)


@dataclass(frozen=True, slots=True)
class QueryPlan:
    """How a query is searched: `query_type` identifier or keyword; `identifier` normalised when one."""

    text: str | None
    query_type: str
    identifier: str | None = None


def classify_query(query: str | None) -> QueryPlan:
    """Identifier when the whole query reads as one code (`SS-M8-40-A2`, `ss m8 40 a2`, `ISO 4017`);
    keyword otherwise (and for filter-only requests)."""
    if not query:
        return QueryPlan(None, "keyword")
    if looks_like_identifier(query):
        identifier = normalize_identifier(query)
        if identifier:
            return QueryPlan(query, "identifier", identifier)
    return QueryPlan(keyword_text(query), "keyword")
