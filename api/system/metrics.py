"""`GET /metrics` in Prometheus text format: HTTP metrics from Litestar's Prometheus middleware,
the domain's metrics from `core.metrics`, and queue depths read at scrape time."""

from __future__ import annotations

import sqlalchemy as sa
from litestar import Controller, get
from litestar.datastructures import State
from litestar.response import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from api.worker_sessions import run_in_worker_session
from core.admin import platform_stats
from core.metrics import QUEUE_DEPTH


class MetricsController(Controller):
    path = "/metrics"
    tags = ["health"]

    @get("/", operation_id="metrics", opt={"public": True}, include_in_schema=True)
    async def metrics(self, state: State) -> Response[bytes]:
        """Prometheus metrics: request counts and latencies by route, search modes, ingestion counts,
        queue depth."""
        try:
            # the same counts as /admin/stats: exact up to a cap, the planner's estimate beyond, so a
            # scrape stays cheap with a million records waiting
            async with state.session_factory() as session:
                stats = await run_in_worker_session(session, platform_stats)
            QUEUE_DEPTH.labels("requests").set(stats.queued_requests)
            QUEUE_DEPTH.labels("embeddings").set(
                stats.indexing_status["pending"] + stats.indexing_status["processing"]
            )
        except sa.exc.SQLAlchemyError:
            pass  # a scrape still answers while the database is away; readiness reports that
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
