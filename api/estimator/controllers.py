"""The estimator: photos in, items, sizes, volume and a packing plan out, streamed as SSE; stored
estimates per tenant."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from api.auth.guards import own_tenant, requires_scope
from api.auth.principal import AuthedRequest
from api.estimator.schemas import (
    EstimateEnvelope,
    EstimatePageData,
    EstimatePageEnvelope,
    estimate_view,
    list_entry,
)
from api.estimator.uploads import ANALYZE_BODY_LIMIT, check_images, read_analyze_request
from api.streams import sse_response
from api.usage.hooks import plan_limits
from api.worker_sessions import run_in_worker_session
from core.estimator.analysis import EstimateBuilder, analyze_events
from core.estimator.store import list_estimates, read_estimate, save_estimate
from core.estimator.vision import get_vision_provider
from core.settings import Settings

ANALYZE_DESCRIPTION = """\
Body: JSON `{"tenantId", "images": [base64 or data:image/...;base64,...], "notes"?, "keepImages"?}`
or multipart/form-data with `images` file parts and `tenantId`, `notes`, `keepImages` fields.
1-10 images (none: 400, more: 413), each at most 10 MB (413), JPEG, PNG or WebP judged by content
(other: 415; corrupt, truncated, polyglot or beyond 12,000 px a side / 40 MP: 422). Remote URLs are
refused (400). `tenantId` must be the caller's (403). Each image counts as one request of the
tenant's usage.

The answer is `text/event-stream`: `start {estimateId, images}`, one `image` per image as soon as it
is analysed, one `item` per distinct item, `summary`, then `done` (after the estimate is stored);
a failure after the stream opened is an `error {code, message}` event, then `done`.
With `Accept: application/json` the whole estimate comes at once (the schema below)."""


def _wants_json(request: Request[Any, Any, Any]) -> bool:
    accept = (request.headers.get("accept") or "").lower()
    return "application/json" in accept and "text/event-stream" not in accept


class EstimatorController(Controller):
    path = "/estimator"
    tags = ["estimator"]

    @post("/analyze", operation_id="analyzeImages", summary="Analyze images (streaming)",
          description=ANALYZE_DESCRIPTION, status_code=200, guards=[requires_scope("tenant:write")],
          request_max_body_size=ANALYZE_BODY_LIMIT,
          responses={200: ResponseSpec(EstimateEnvelope, description="The stream, or with Accept: application/json "
                                       "the whole estimate", generate_examples=False)})
    async def analyze(self, request: AuthedRequest, settings: Settings) -> Response[Any]:
        """Detect items in the photos, size them, add up volume and weight, and plan the packing."""
        body = await read_analyze_request(request)
        own_tenant(request.user, body.tenant_id)
        images = await check_images(body.raw_images)
        provider = get_vision_provider(settings)
        # the request itself was counted on the way in; every further image counts as one more
        usage = request.app.state.usage
        limits = await plan_limits(request, body.tenant_id)
        for _ in images[1:]:
            await usage.admit(body.tenant_id, limits)  # a refused image counts toward no quota
        estimate_id = uuid.uuid4()
        session_factory = request.app.state.session_factory
        saved: dict[str, Any] = {}

        async def save(builder: EstimateBuilder) -> None:
            # the stream outlives the request's session: the save opens its own
            async with session_factory() as session:
                if not body.keep_images and not isinstance(session.bind, AsyncConnection):
                    # one row: a single autocommitted INSERT is one round trip instead of BEGIN,
                    # INSERT, COMMIT (on a loaded machine each is a wait for the server's turn);
                    # an app bound to a test's open transaction keeps that transaction
                    await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
                saved["row"] = await save_estimate(
                    session, tenant_id=body.tenant_id, estimate_id=estimate_id, provider=provider.name,
                    result=builder.result(), notes=body.notes, images=images, keep_images=body.keep_images)
                await session.commit()

        events = analyze_events(images, provider, estimate_id=estimate_id, save=save)
        if not _wants_json(request):
            return sse_response(events)
        async for _ in events:
            pass
        view = estimate_view(saved["row"], len(images) if body.keep_images else 0)
        return Response(EstimateEnvelope(success=True, data=view), status_code=200)

    @get("/estimates", operation_id="listEstimates", summary="List estimates",
         description="This tenant's stored estimates, newest first (paged with limit and offset).",
         guards=[requires_scope("tenant:read")])
    async def list(
        self, request: AuthedRequest, db_session: AsyncSession,
        limit: int = Parameter(default=20, ge=1, le=100), offset: int = Parameter(default=0, ge=0),
    ) -> EstimatePageEnvelope:
        """One page of the tenant's estimates with their totals and recommended vehicle."""
        tenant_id = request.user.tenant_id
        page = await run_in_worker_session(db_session, lambda s: list_estimates(s, tenant_id, limit=limit, offset=offset))
        return EstimatePageEnvelope(success=True, data=EstimatePageData(
            estimates=[list_entry(row) for row in page.rows], total=page.total, limit=limit, offset=offset))

    @get("/estimates/{estimate_id:str}", operation_id="getEstimate", summary="Get an estimate",
         description="One stored estimate of this tenant (another tenant's: 404).",
         guards=[requires_scope("tenant:read")])
    async def get(self, request: AuthedRequest, db_session: AsyncSession, estimate_id: str) -> EstimateEnvelope:
        """The whole stored estimate: images, items, summary."""
        tenant_id = request.user.tenant_id
        found = await run_in_worker_session(db_session, lambda s: read_estimate(s, tenant_id, estimate_id))
        return EstimateEnvelope(success=True, data=estimate_view(found.row, found.images_kept))


ROUTES = [EstimatorController]
