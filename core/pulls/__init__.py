"""The pull service: connectors registered per tenant (credentials encrypted), pulled into records.

- `spec.parse_connector_spec(body)` validates a registration without connecting;
- `catalog` registers, lists, gets and deletes connectors, and renders them with credentials redacted;
- `run.run_pull(engine, connector_id, ...)` streams the source into the connector's collection;
- `partitions` names each connector's Dagster partition (`<tenant name>/<connector name>`);
- `work` turns pulls into work requests that Dagster runs serve (and the API can wait for);
- `keys.rotate_connector_keys` re-encrypts every stored config with the first key.
"""

from core.pulls.catalog import (
    REDACTED,
    delete_connector,
    get_connector,
    list_connectors,
    register_connector,
)
from core.pulls.errors import PullFailed, PullRejected, PullUnavailable
from core.pulls.keys import RotationReport, rotate_connector_keys
from core.pulls.run import PullResult, run_pull
from core.pulls.spec import ConnectorSpec, parse_connector_spec
from core.pulls.work import serve_pull_request, submit_pull, wait_for_pull

__all__ = [
    "REDACTED",
    "ConnectorSpec",
    "PullFailed",
    "PullRejected",
    "PullResult",
    "PullUnavailable",
    "RotationReport",
    "delete_connector",
    "get_connector",
    "list_connectors",
    "parse_connector_spec",
    "register_connector",
    "rotate_connector_keys",
    "run_pull",
    "serve_pull_request",
    "submit_pull",
    "wait_for_pull",
]
