"""The chat's built-in tools: they act on the calling tenant's own data, with the caller's scopes.

- `search_records(collection, query, filters?, limit?)`: the real search service (full text), as
  `POST /search/{collection}` answers it;
- `get_record(id)`: one record of the tenant;
- `list_collections()`: the tenant's collections with their active record counts;
- `collection_stats(collection)`: a collection's active generation, record and indexed counts.

A tool never raises into the stream: a failure is `ok: false` with an `error` the model can read.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from core.chat.provider import ToolCallRequest, ToolOutcome, ToolSpec
from core.errors import KarizError
from core.search.request import SearchRequest
from core.search.service import search

TOOL_SCOPE = "tenant:read"
MAX_LIMIT = 10

TOOLS = [
    ToolSpec("search_records", "Search one of the tenant's collections of records by keywords.", {
        "type": "object",
        "properties": {
            "collection": {"type": "string", "description": "the collection's name"},
            "query": {"type": "string", "description": "keywords, 1-500 characters"},
            "filters": {"type": "object", "description": "field filters, e.g. {\"price_max\": 10}"},
            "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
        },
        "required": ["collection", "query"],
    }),
    ToolSpec("get_record", "Fetch one record of the tenant by its id.", {
        "type": "object", "properties": {"id": {"type": "string", "description": "the record's UUID"}},
        "required": ["id"],
    }),
    ToolSpec("list_collections", "List the tenant's collections with their record counts.",
             {"type": "object", "properties": {}}),
    ToolSpec("collection_stats", "Counts of one collection: active generation, records, indexed records.", {
        "type": "object", "properties": {"collection": {"type": "string"}}, "required": ["collection"],
    }),
]
TOOL_NAMES = frozenset(t.name for t in TOOLS)

_COLLECTIONS = sa.text("""
    SELECT c.name, c.active_generation,
           (SELECT count(*) FROM records r WHERE r.collection_id = c.id AND r.generation = c.active_generation
              AND r.status = 'active') AS records,
           (SELECT count(*) FROM records r WHERE r.collection_id = c.id AND r.generation = c.active_generation
              AND r.status = 'active' AND r.embedding_status = 'indexed') AS indexed
    FROM collections c WHERE c.tenant_id = :tenant ORDER BY c.name LIMIT 200
""")
_RECORD = sa.text("""
    SELECT r.id, r.name, r.record_type, r.collection_data, r.description_llm, r.status, c.name AS collection
    FROM records r JOIN collections c ON c.id = r.collection_id
    WHERE r.tenant_id = :tenant AND r.id = :id AND c.tenant_id = :tenant
      AND r.generation = c.active_generation
""")


class ToolFailed(KarizError):
    code = "TOOL_FAILED"


def _text(arguments: dict[str, Any], name: str) -> str:
    value = arguments.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ToolFailed(f"'{name}' must be a non-empty string")
    return value.strip()


@dataclass
class ToolBox:
    """The tools offered to one chat turn: a read connection, the tenant and the caller's scopes."""

    session: AsyncSession | AsyncConnection
    tenant_id: uuid.UUID
    allowed: bool

    @property
    def specs(self) -> list[ToolSpec]:
        """What the model is offered: nothing when the caller may not read the tenant's records."""
        return list(TOOLS) if self.allowed else []

    async def collection_names(self) -> list[str]:
        if not self.allowed:
            return []
        rows = await self.session.execute(
            sa.text("SELECT name FROM collections WHERE tenant_id = :tenant ORDER BY name LIMIT 200"),
            {"tenant": self.tenant_id})
        return [r[0] for r in rows]

    async def run(self, call: ToolCallRequest) -> ToolOutcome:
        """Execute one call; failures are returned, never raised."""
        try:
            if not self.allowed:
                raise ToolFailed(f"this key lacks the '{TOOL_SCOPE}' scope the tools need")
            if call.name not in TOOL_NAMES:
                raise ToolFailed(f"unknown tool '{call.name}'")
            output = await getattr(self, f"_{call.name}")(call.arguments or {})
            return ToolOutcome(call.id, call.name, call.arguments, True, output)
        except KarizError as exc:
            return ToolOutcome(call.id, call.name, call.arguments, False, {"error": exc.message})

    async def _search_records(self, arguments: dict[str, Any]) -> dict[str, Any]:
        collection = _text(arguments, "collection")
        query = _text(arguments, "query")
        filters = arguments.get("filters") or {}
        limit = arguments.get("limit", 5)
        if not isinstance(limit, int) or isinstance(limit, bool):
            limit = 5
        limit = max(1, min(limit, MAX_LIMIT))
        response = await search(self.session, self.tenant_id, collection,
                                SearchRequest(query=query, limit=limit, filters=filters, search_mode="fulltext"))
        return {"collection": collection, "query": query,
                "results": [{"id": h.record_id, "name": h.name, "score": h.score, "recordType": h.record_type,
                             "collectionData": _trim(h.collection_data)} for h in response.results]}

    async def _get_record(self, arguments: dict[str, Any]) -> dict[str, Any]:
        try:
            record_id = uuid.UUID(_text(arguments, "id"))
        except ValueError:
            raise ToolFailed("'id' must be a record UUID") from None
        row = (await self.session.execute(_RECORD, {"tenant": self.tenant_id, "id": record_id})).mappings().first()
        if row is None:
            raise ToolFailed(f"record {record_id} not found")
        return {"id": str(row["id"]), "name": row["name"], "recordType": row["record_type"],
                "collection": row["collection"], "status": row["status"],
                "description": row["description_llm"], "collectionData": _trim(row["collection_data"])}

    async def _list_collections(self, _: dict[str, Any]) -> dict[str, Any]:
        rows = (await self.session.execute(_COLLECTIONS, {"tenant": self.tenant_id})).mappings().all()
        return {"collections": [{"name": r["name"], "records": r["records"]} for r in rows]}

    async def _collection_stats(self, arguments: dict[str, Any]) -> dict[str, Any]:
        collection = _text(arguments, "collection")
        rows = (await self.session.execute(_COLLECTIONS, {"tenant": self.tenant_id})).mappings().all()
        for r in rows:
            if r["name"] == collection:
                return {"collection": collection, "generation": r["active_generation"],
                        "records": r["records"], "indexed": r["indexed"]}
        raise ToolFailed(f"collection '{collection}' not found")


def _trim(data: dict[str, Any] | None, max_fields: int = 20, max_chars: int = 300) -> dict[str, Any]:
    """A record's data small enough for a prompt."""
    out: dict[str, Any] = {}
    for key, value in list((data or {}).items())[:max_fields]:
        out[key] = value[:max_chars] if isinstance(value, str) else value
    return out
