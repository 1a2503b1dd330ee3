"""What a pull's Dagster run is asked with: its run config and tags.

One definition for the two places that ask for such a run: `pull_request_sensor`
(orchestration/connectors.py) and the API, which launches a new pull's run right after its commit
(api/requests/launch.py). The run is `connector_pull_job` in the connector's partition.
"""

from __future__ import annotations

CONNECTOR_TAG = "kariz/connector"
TRIGGER_TAG = "kariz/trigger"
PULL_OP = "connector_records"  # the pull job's one asset


def pull_run_config(request_id: str = "", trigger: str = "api") -> dict:
    """Run config of a pull: the request id (and what triggered it); never connection details."""
    return {"ops": {PULL_OP: {"config": {"request_id": request_id, "trigger": trigger}}}}


def pull_tags(connector_id: str, trigger: str) -> dict[str, str]:
    """The run tags a pull adds to its request's."""
    return {CONNECTOR_TAG: connector_id, TRIGGER_TAG: trigger}
