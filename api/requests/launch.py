"""A new request's run, launched without waiting for a sensor tick.

Once a session that created work requests (`core.requests.submit_request`, whichever area called it)
commits, a background thread asks Dagster's webserver (`settings.dagster_url`, which `kariz up`
sets) to launch each one's run with GraphQL `launchRun`: the job, run config and tags its request
sensor would use, and the sensor's `run_key`, so Dagster's own run-key check finds it too. The
request path does not wait for it (the thread starts after the commit, the response does not
depend on it); a failure only logs: the request sensor, which leaves young rows to the API
(`orchestration.requests.DIRECT_LAUNCH_GRACE`) and skips rows that have a run, launches it then.

Why: the sensor's tick (its 5 s interval; Dagster's sensor daemon loops every 5 s at best) was
most of what was left between a request and its run's start once runs launch from a warm
forkserver (orchestration/launcher.py): bench/README.md, Dagster section.

Launched here: housekeeping and exports (`build_request_sensor`'s one op that takes the request id),
connector pulls (`connector_pull_job` in the connector's partition, `<tenant name>/<connector name>`,
core/pulls/runs.py and core/pulls/partitions.py) and reindexing (`reindex_collection_job` in the
collection's partition, `<tenant name>/<collection>`, core/admin/reindex.py). The partition key is
computed in the submitting transaction (`SubmittedRequest.partition`, by the core functions the
sensors call). A partitioned run is asked for in one GraphQL document that first adds its dynamic
partition (`addDynamicPartition`; one that exists already answers DuplicateDynamicPartitionError,
which is fine) and then launches (`launchRun`): mutations of one document run in order, so a
connector registered a moment ago gets its first pull within the same ~1 s as any other, in one
round trip, without waiting for `pull_request_sensor` to add the partition.

An ingestion is no request, yet it starts work too: once it committed new or changed records, the
API launches the collection's embedding run the same way (`launch_embedding`: `embedding_sensor`'s
job, run config, tags and run key, from core/embeddings/runs.py), so an upload's records start
embedding within a second or two instead of at the sensor's next tick; the sensor, which gives a
collection with a run in progress no second one, stays the fallback.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import httpx
from sqlalchemy import event
from sqlalchemy.orm import Session

from core.admin.reindex import REINDEX_JOB, REINDEX_SENSOR, RUN_TAGS, reindex_run_config
from core.collections.events import PARTITIONS_NAME as COLLECTION_PARTITIONS
from core.embeddings.runs import AREA_TAGS, EMBED_JOB, EMBED_SENSOR, embed_run_config, embed_run_key
from core.pulls.partitions import PARTITIONS_NAME as CONNECTOR_PARTITIONS
from core.pulls.runs import pull_run_config, pull_tags
from core.requests import (
    COLLECTION_TAG,
    SUBMITTED_KEY,
    TENANT_TAG,
    SubmittedRequest,
    one_op_request_config,
    take_submitted,
)
from core.settings import Settings

LOG = logging.getLogger("kariz.requests.launch")

LOCATION = "kariz"  # workspace.yaml
REPOSITORY = "__repository__"  # the repository of a Definitions object
RUN_KEY_TAG = "dagster/run_key"  # dagster._core.storage.tags, without importing dagster here
SENSOR_NAME_TAG = "dagster/sensor_name"
PARTITION_TAG = "dagster/partition"

_LAUNCH_RUN_FIELD = """
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on InvalidSubsetError { message }
    ... on PipelineNotFoundError { message }
  }
"""
LAUNCH_RUN = "mutation LaunchRequestRun($params: ExecutionParams!) {" + _LAUNCH_RUN_FIELD + "}"
# a partitioned run: its dynamic partition added first (top-level mutations run in order)
LAUNCH_PARTITIONED_RUN = (
    """
mutation LaunchPartitionedRequestRun(
  $params: ExecutionParams!, $repository: RepositorySelector!, $partitions: String!, $partition: String!
) {
  addDynamicPartition(
    repositorySelector: $repository, partitionsDefName: $partitions, partitionKey: $partition
  ) {
    __typename
    ... on DuplicateDynamicPartitionError { message }
    ... on UnauthorizedError { message }
    ... on PythonError { message }
  }"""
    + _LAUNCH_RUN_FIELD
    + "}"
)


@dataclass(frozen=True)
class LaunchTarget:
    """What a kind's request sensor launches for a request: job, sensor, run config, extra tags, and
    for a partitioned job the dynamic partition set and key."""

    job: str
    sensor: str
    run_config: dict
    tags: dict[str, str]
    partitions: str | None = None
    partition: str | None = None


@dataclass(frozen=True)
class Launch:
    """One GraphQL document and its variables that launch a run."""

    query: str
    variables: dict


def _one_op(job: str, op: str, sensor: str) -> Callable[[SubmittedRequest], LaunchTarget | None]:
    """A `build_request_sensor` kind: one op that takes the request id."""

    def target(request: SubmittedRequest) -> LaunchTarget:
        return LaunchTarget(job, sensor, one_op_request_config(op, request.id), {})

    return target


def _pull(request: SubmittedRequest) -> LaunchTarget | None:
    """orchestration/connectors.py's `pull_request_sensor`: the connector's partition, its tags."""
    if request.partition is None:
        return None
    connector = str(request.params["connector_id"])
    trigger = str(request.params.get("trigger", "api"))
    return LaunchTarget(
        "connector_pull_job",
        "pull_request_sensor",
        pull_run_config(str(request.id), trigger),
        pull_tags(connector, trigger),
        CONNECTOR_PARTITIONS,
        request.partition,
    )


def _reindex(request: SubmittedRequest) -> LaunchTarget | None:
    """orchestration/ingestion.py's `reindex_request_sensor`: the collection's partition."""
    if request.partition is None:
        return None
    return LaunchTarget(
        REINDEX_JOB,
        REINDEX_SENSOR,
        reindex_run_config(request.id),
        dict(RUN_TAGS),
        COLLECTION_PARTITIONS,
        request.partition,
    )


TARGETS: dict[str, Callable[[SubmittedRequest], LaunchTarget | None]] = {
    "housekeeping": _one_op("housekeeping_job", "tenant_housekeeping", "housekeeping_request_sensor"),
    "export": _one_op("export_job", "export_collection", "export_request_sensor"),
    "pull": _pull,
    "reindex": _reindex,
}


def request_launch(request: SubmittedRequest) -> Launch | None:
    """What launches the request's run, or None for a kind (or request) left to its sensor."""
    build = TARGETS.get(request.kind)
    target = build(request) if build is not None else None
    if target is None:
        return None
    return _launch(target, {**request.tags}, str(request.id))


def embedding_launch(tenant_id: object, collection_id: object, now: float | None = None) -> Launch:
    """What launches the collection's embedding run, as `embedding_sensor` asks for it."""
    target = LaunchTarget(EMBED_JOB, EMBED_SENSOR, embed_run_config(tenant_id, collection_id), AREA_TAGS)
    tags = {TENANT_TAG: str(tenant_id), COLLECTION_TAG: str(collection_id)}
    return _launch(target, tags, embed_run_key(collection_id, now))


def _launch(target: LaunchTarget, tags: dict[str, str], run_key: str) -> Launch:
    tags = {**tags, **target.tags, RUN_KEY_TAG: run_key, SENSOR_NAME_TAG: target.sensor}
    if target.partition is not None:
        tags[PARTITION_TAG] = target.partition
    repository = {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY}
    params = {
        "selector": {**repository, "jobName": target.job},
        "runConfigData": target.run_config,
        "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in tags.items()]},
    }
    if target.partition is None or target.partitions is None:
        return Launch(LAUNCH_RUN, {"params": params})
    variables = {
        "params": params,
        "repository": repository,
        "partitions": target.partitions,
        "partition": target.partition,
    }
    return Launch(LAUNCH_PARTITIONED_RUN, variables)


class DirectLauncher:
    """Posts `launchRun` for committed requests from a small thread pool."""

    def __init__(self, dagster_url: str, *, timeout: float = 30.0) -> None:
        self.url = dagster_url.rstrip("/") + "/graphql"
        self.timeout = timeout
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="kariz-launch")

    def submit(self, requests: list[SubmittedRequest]) -> list[Future]:
        return [
            self._pool.submit(self.launch, f"the run of request {request.id}", launch)
            for request in requests
            if (launch := request_launch(request)) is not None
        ]

    def submit_embedding(self, tenant_id: object, collection_id: object) -> Future:
        launch = embedding_launch(tenant_id, collection_id)
        return self._pool.submit(self.launch, f"the embedding run of collection {collection_id}", launch)

    def launch(self, what: str, launch: Launch) -> str | None:
        """The launched run's id, or None (logged) when Dagster did not launch it."""
        try:
            response = httpx.post(
                self.url, json={"query": launch.query, "variables": launch.variables}, timeout=self.timeout
            )
            response.raise_for_status()
            body = response.json()
            result = (body.get("data") or {}).get("launchRun") or {}
            if result.get("__typename") == "LaunchRunSuccess":
                return result["run"]["runId"]
            LOG.warning(
                "Dagster did not launch %s (the sensor will): %s",
                what,
                result or body.get("errors"),
            )
        except (httpx.HTTPError, ValueError) as exc:
            LOG.warning("could not ask Dagster to launch %s (the sensor will): %s", what, exc)
        return None

    def close(self) -> None:
        self._pool.shutdown(wait=False)


_launcher: DirectLauncher | None = None
_lock = threading.Lock()


def _after_commit(session: Session) -> None:
    submitted = take_submitted(session)
    launcher = _launcher
    if submitted and launcher is not None:
        try:
            launcher.submit(submitted)
        except Exception:  # never the committing code's problem: the sensors launch them
            LOG.exception("could not hand %d committed request(s) to the direct launcher", len(submitted))


def launch_embedding(tenant_id: object, collection_id: object) -> Future | None:
    """Launch the collection's embedding run now (after its ingestion committed); None when direct
    launch is off. Never raises: the embedding sensor launches it then."""
    launcher = _launcher
    if launcher is None:
        return None
    try:
        return launcher.submit_embedding(tenant_id, collection_id)
    except Exception:
        LOG.exception("could not hand the embedding of collection %s to the direct launcher", collection_id)
        return None


def _after_rollback(session: Session) -> None:
    session.info.pop(SUBMITTED_KEY, None)  # never committed: nothing to launch


def install(settings: Settings) -> DirectLauncher | None:
    """Launch committed requests' runs through `settings.dagster_url` (nothing when it is empty)."""
    global _launcher
    with _lock:
        if _launcher is not None:
            _launcher.close()
        _launcher = DirectLauncher(settings.dagster_url) if settings.dagster_url else None
        if _launcher is not None and not event.contains(Session, "after_commit", _after_commit):
            event.listen(Session, "after_commit", _after_commit)
            event.listen(Session, "after_rollback", _after_rollback)
        return _launcher


def uninstall() -> None:
    global _launcher
    with _lock:
        if _launcher is not None:
            _launcher.close()
        _launcher = None
        if event.contains(Session, "after_commit", _after_commit):
            event.remove(Session, "after_commit", _after_commit)
            event.remove(Session, "after_rollback", _after_rollback)
