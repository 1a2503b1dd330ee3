"""`POST` and `GET /search/{collection}`: full-text, identifier, semantic and hybrid search."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Response, get, post
from litestar.datastructures import State
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter

from api.auth.guards import requires_scope
from api.auth.principal import AuthedRequest
from api.search.schemas import SearchBody, SearchHealthView, SearchResultView
from core.errors import InvalidInput
from core.metrics import SEARCH_CACHE_HITS, SEARCH_FALLBACKS, SEARCH_LATENCY, SEARCH_ZERO_RESULTS, SEARCHES
from core.search.request import SearchRequest, SearchResponse
from core.search.service import search

# the read connection (api/deps.py): AsyncConnection or AsyncSession, a union Litestar cannot
# validate as a handler parameter, hence Any
Reader = Any


def _observe(response: SearchResponse) -> None:
    SEARCHES.labels(response.search_mode, response.query_type).inc()
    SEARCH_LATENCY.labels(response.search_mode).observe(response.processing_time_ms / 1000)
    if response.cache_hit:
        SEARCH_CACHE_HITS.inc()
    if not response.results:
        SEARCH_ZERO_RESULTS.inc()
    if response.zero_result_fallback_used:
        SEARCH_FALLBACKS.labels("filters_only").inc()
    if response.vector_fallback_reason is not None:
        SEARCH_FALLBACKS.labels("fulltext_for_vectors").inc()


async def _answer(request: AuthedRequest, read_session: Reader, collection: str,
                  search_request: SearchRequest) -> Response[bytes]:
    response = await search(read_session, request.user.tenant_id, collection, search_request)
    _observe(response)
    request.app.state.search_stats.record(response)
    body, media_type = response.render()
    return Response(body, media_type=media_type)


# the handlers answer bytes they encoded themselves (json or yaml); the document says what they hold
SEARCH_RESPONSES = {
    200: ResponseSpec(data_container=SearchResultView, description="Results, pagination and metadata")
}


class SearchController(Controller):
    path = "/search"
    tags = ["search"]
    guards = [requires_scope("tenant:read")]

    @post("/{collection:str}", operation_id="searchPost", status_code=200, responses=SEARCH_RESPONSES)
    async def search_post(self, request: AuthedRequest, read_session: Reader, collection: str,
                          data: SearchBody) -> Response[bytes]:
        """Search a collection with a query and/or filters, sort, paging and a response format."""
        return await _answer(request, read_session, collection, data.to_request())

    @get("/{collection:str}", operation_id="searchGet", responses=SEARCH_RESPONSES)
    async def search_get(
        self,
        request: AuthedRequest,
        read_session: Reader,
        collection: str,
        q: str | None = None,
        limit: int = Parameter(default=20),
        offset: int = Parameter(default=0),
    ) -> Response[bytes]:
        """Search with `q` (required, 1-500 characters), `limit`, `offset`; use POST for filters."""
        if q is None or not q.strip():
            raise InvalidInput("q is required (1-500 characters)")
        return await _answer(request, read_session, collection, SearchRequest(query=q, limit=limit, offset=offset))


class SearchHealthController(Controller):
    path = "/health/search"
    tags = ["health"]

    @get("/", operation_id="healthSearch", opt={"public": True})
    async def health_search(self, state: State) -> SearchHealthView:
        """Search quality of this API process: latency percentiles, zero-result rate, fallback count."""
        return msgspec.convert({"status": "healthy", **state.search_stats.snapshot()}, SearchHealthView)


ROUTES = [SearchController, SearchHealthController]
