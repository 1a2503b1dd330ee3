"""The tenant `housekeeping` job, run on request (API) through the request sensor."""

# no `from __future__ import annotations`: Dagster reads op and config annotations at definition time

import dagster as dg

from core.requests import fail_request, finish_request, start_request
from core.tenants.housekeeping import run_housekeeping
from orchestration.requests import RequestConfig, build_request_sensor
from orchestration.resources import DatabaseResource


@dg.op(description="Recount generations and drop long-dead API keys for one tenant.")
def tenant_housekeeping(context: dg.OpExecutionContext, config: RequestConfig, database: DatabaseResource) -> None:
    with database.session() as session:
        request = start_request(session, config.request_id, context.run_id)
        tenant_id = request.tenant_id
    try:
        with database.session() as session:
            result = run_housekeeping(session, tenant_id)
    except Exception as exc:
        with database.session() as session:
            fail_request(session, config.request_id, f"housekeeping failed: {type(exc).__name__}")
        raise
    with database.session() as session:
        finish_request(session, config.request_id, result)
    context.log.info("housekeeping for tenant %s: %s", tenant_id, result)
    context.add_output_metadata({k: dg.MetadataValue.json(v) if isinstance(v, dict) else v for k, v in result.items()})


@dg.job(description="Tenant housekeeping, one run per request.", tags={"kariz/area": "tenants"})
def housekeeping_job() -> None:
    tenant_housekeeping()


housekeeping_sensor = build_request_sensor("housekeeping", housekeeping_job)

defs = dg.Definitions(jobs=[housekeeping_job], sensors=[housekeeping_sensor])
