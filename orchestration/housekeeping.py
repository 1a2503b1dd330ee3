"""The tenant `housekeeping` job, run on request (API) through the request sensor."""

# no `from __future__ import annotations`: Dagster reads op and config annotations at definition time

from typing import Any

import dagster as dg

from core.db.models import WorkRequest
from core.requests import serve_request
from core.tenants.housekeeping import run_housekeeping
from orchestration.requests import RequestConfig, build_request_sensor
from orchestration.resources import DatabaseResource


@dg.op(description="Recount generations and drop long-dead API keys for one tenant.")
def tenant_housekeeping(
    context: dg.OpExecutionContext, config: RequestConfig, database: DatabaseResource
) -> None:
    def housekeep(request: WorkRequest) -> dict[str, Any]:
        with database.session() as session:
            result = run_housekeeping(session, request.tenant_id)
        context.log.info("housekeeping for tenant %s: %s", request.tenant_id, result)
        return result

    result = serve_request(
        database.session, config.request_id, context.run_id, housekeep, what="housekeeping"
    )
    context.add_output_metadata(
        {k: dg.MetadataValue.json(v) if isinstance(v, dict) else v for k, v in result.items()}
    )


@dg.job(description="Tenant housekeeping, one run per request.", tags={"kariz/area": "tenants"})
def housekeeping_job() -> None:
    tenant_housekeeping()


housekeeping_sensor = build_request_sensor("housekeeping", housekeeping_job)

defs = dg.Definitions(jobs=[housekeeping_job], sensors=[housekeeping_sensor])
