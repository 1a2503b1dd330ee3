"""`GET /metrics` in Prometheus text format: HTTP metrics from Litestar's Prometheus middleware,
the domain's metrics from `core.metrics`, and queue depths read at scrape time."""

from __future__ import annotations

import sqlalchemy as sa
from litestar import Controller, get
from litestar.datastructures import State
from litestar.response import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from core.metrics import QUEUE_DEPTH

# estimates from the planner's statistics where exact counts would scan big tables on every scrape
_DEPTHS = sa.text(
    "SELECT (SELECT count(*) FROM work_requests WHERE status = 'queued') AS requests, "
    "(SELECT count(*) FROM records WHERE embedding_status IN ('pending', 'processing')) AS embeddings"
)


class MetricsController(Controller):
    path = "/metrics"
    tags = ["health"]

    @get("/", operation_id="metrics", opt={"public": True}, include_in_schema=True)
    async def metrics(self, state: State) -> Response[bytes]:
        """Prometheus metrics: request counts and latencies by route, search modes, ingestion counts,
        queue depth."""
        try:
            async with state.session_factory() as session:
                row = (await session.execute(_DEPTHS)).one()
            QUEUE_DEPTH.labels("requests").set(row.requests)
            QUEUE_DEPTH.labels("embeddings").set(row.embeddings)
        except sa.exc.SQLAlchemyError:
            pass  # a scrape still answers while the database is away; readiness reports that
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
