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

Only kinds whose sensor is `build_request_sensor`'s (one op that takes the request id) are launched
here; pulls and reindexing, whose sensors also add dynamic partitions, wait for their sensor.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import httpx
from sqlalchemy import event
from sqlalchemy.orm import Session

from core.requests import SUBMITTED_KEY, SubmittedRequest, take_submitted
from core.settings import Settings

LOG = logging.getLogger("kariz.requests.launch")

LOCATION = "kariz"  # workspace.yaml
REPOSITORY = "__repository__"  # the repository of a Definitions object
RUN_KEY_TAG = "dagster/run_key"  # dagster._core.storage.tags, without importing dagster here
SENSOR_NAME_TAG = "dagster/sensor_name"

LAUNCH_RUN = """
mutation LaunchRequestRun($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on InvalidSubsetError { message }
    ... on PipelineNotFoundError { message }
  }
}
"""


@dataclass(frozen=True)
class LaunchTarget:
    """What a kind's request sensor (`build_request_sensor`) launches."""

    job: str
    op: str  # the job's single op, which takes `request_id`
    sensor: str


TARGETS = {
    "housekeeping": LaunchTarget("housekeeping_job", "tenant_housekeeping", "housekeeping_request_sensor"),
    "export": LaunchTarget("export_job", "export_collection", "export_request_sensor"),
}


def launch_variables(request: SubmittedRequest) -> dict | None:
    """The `launchRun` variables for the request's run, or None for a kind left to its sensor."""
    target = TARGETS.get(request.kind)
    if target is None:
        return None
    tags = {**request.tags, RUN_KEY_TAG: str(request.id), SENSOR_NAME_TAG: target.sensor}
    return {
        "params": {
            "selector": {
                "repositoryLocationName": LOCATION,
                "repositoryName": REPOSITORY,
                "jobName": target.job,
            },
            "runConfigData": {"ops": {target.op: {"config": {"request_id": str(request.id)}}}},
            "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in tags.items()]},
        }
    }


class DirectLauncher:
    """Posts `launchRun` for committed requests from a small thread pool."""

    def __init__(self, dagster_url: str, *, timeout: float = 30.0) -> None:
        self.url = dagster_url.rstrip("/") + "/graphql"
        self.timeout = timeout
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="kariz-launch")

    def submit(self, requests: list[SubmittedRequest]) -> list[Future]:
        return [
            self._pool.submit(self.launch, request.id, variables)
            for request in requests
            if (variables := launch_variables(request)) is not None
        ]

    def launch(self, request_id: object, variables: dict) -> str | None:
        """The launched run's id, or None (logged) when Dagster did not launch it."""
        try:
            response = httpx.post(
                self.url, json={"query": LAUNCH_RUN, "variables": variables}, timeout=self.timeout
            )
            response.raise_for_status()
            body = response.json()
            result = (body.get("data") or {}).get("launchRun") or {}
            if result.get("__typename") == "LaunchRunSuccess":
                return result["run"]["runId"]
            LOG.warning(
                "Dagster did not launch the run of request %s (the sensor will): %s",
                request_id,
                result or body.get("errors"),
            )
        except (httpx.HTTPError, ValueError) as exc:
            LOG.warning(
                "could not ask Dagster to launch the run of request %s (the sensor will): %s", request_id, exc
            )
        return None

    def close(self) -> None:
        self._pool.shutdown(wait=False)


_launcher: DirectLauncher | None = None
_lock = threading.Lock()


def _after_commit(session: Session) -> None:
    submitted = take_submitted(session)
    launcher = _launcher
    if submitted and launcher is not None:
        launcher.submit(submitted)


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
