"""Latency from an API request to the start of its Dagster run, on the stack `kariz up` runs.

    .venv/bin/python bench/dagster_request_latency.py [--requests 20] [--burn N]

Starts `kariz up` on a fresh data dir (embedded PostgreSQL, API, dagster-webserver, dagster-daemon),
then sends `POST /tenants/{id}/housekeeping` (a one-step request job) one at a time and reads, through
the Dagster GraphQL API, the run tagged with the request: when it was created (by the API's own
launchRun right after its commit, api/requests/launch.py; the request sensor is the fallback) and
when it STARTED (its run worker began executing). Beside it, the baseline: the same job launched
directly with GraphQL `launchRun`, which goes through the same queued run coordinator and run
launcher, so the run-launch cost alone shows. The sensor tick interval (`minimum_interval_seconds`)
and the daemon's own sensor loop period are printed beside the figures, and `uptime` before and
after. `--burn N` runs N busy-looping processes during the measurement (a loaded machine).

Also timed: a CSV upload to its collection's embedding run; `POST /admin/reindex/{collection}` to its
`reindex_collection_job` run (partition `<tenant name>/<collection>`); and a connector registered a
moment before, whose first `POST /connectors/{id}/pull` starts a run in a partition no sensor has
added yet (the API adds it in the launch's GraphQL document). The connector's source refuses the
login (a local PostgreSQL, allow-listed for the bench with KARIZ_CONNECTOR_ALLOWED_NETWORKS), so its
run fails at once after it STARTED, which is the moment timed, and holds no run slot.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.percentiles import pct  # noqa: E402
from tests.loopback import free_port  # noqa: E402

RUNS_QUERY = """
query Runs($filter: RunsFilter) {
  runsOrError(filter: $filter, limit: 5) {
    ... on Runs { results { runId status creationTime startTime } }
  }
}
"""

LAUNCH = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}
"""


# a login the local PostgreSQL refuses: the pull run starts, then fails at once (not retried)
SOURCE_SERVER = "127.0.0.1:5432"
SOURCE_DSN = f"postgresql://kariz_bench_nobody:wrong@{SOURCE_SERVER}/kariz_bench_nowhere"


def graphql(dagster: str, query: str, variables: dict) -> dict:
    response = httpx.post(f"{dagster}/graphql", json={"query": query, "variables": variables}, timeout=30)
    response.raise_for_status()
    body = response.json()
    if body.get("errors"):
        raise RuntimeError(body["errors"])
    return body["data"]


def timing(run: dict, sent: float) -> tuple[float, float]:
    """(sent → run created, sent → run STARTED) in seconds."""
    return run["creationTime"] - sent, run["startTime"] - sent


def wait_run(
    dagster: str, *, tag: tuple[str, str] | None = None, run_id: str | None = None, timeout: float = 180
) -> dict:
    """The run (by tag or id) once it has a start time."""
    run_filter = {"tags": [{"key": tag[0], "value": tag[1]}]} if tag else {"runIds": [run_id]}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = graphql(dagster, RUNS_QUERY, {"filter": run_filter})["runsOrError"]["results"]
        if runs and runs[0]["startTime"]:
            return runs[0]
        time.sleep(0.05)
    raise SystemExit(f"no started run for {tag or run_id} within {timeout}s")


def start_stack(data_dir: Path) -> tuple[subprocess.Popen, str, str, str, str]:
    api_port, dagster_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KARIZ_", "DATABASE_URL"))}
    env["KARIZ_DATA_DIR"] = str(data_dir)
    env["KARIZ_CONNECTOR_ALLOWED_NETWORKS"] = SOURCE_SERVER
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "kariz"),
            "up",
            "--api-port",
            str(api_port),
            "--dagster-port",
            str(dagster_port),
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    tenant = key = ""
    for line in proc.stdout:
        if line.startswith("tenant"):
            tenant = line.split("(")[1].rstrip(")\n")
        elif line.startswith("api key"):
            key = line.split()[-1]
        elif line.startswith(("ready in", "start-up failed")):
            print(line.strip())
            break
    if not key:
        proc.send_signal(signal.SIGINT)
        raise SystemExit("kariz up did not become ready")
    return proc, f"http://127.0.0.1:{api_port}/api/v1", f"http://127.0.0.1:{dagster_port}", tenant, key


def api_requests(api: str, dagster: str, tenant: str, key: str, n: int) -> list[tuple[float, float]]:
    """(request → run created, request → run started) in seconds, for `n` housekeeping requests."""
    out = []
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(headers=headers, timeout=30) as http:
        for _ in range(n):
            sent = time.time()
            response = http.post(f"{api}/tenants/{tenant}/housekeeping/")
            response.raise_for_status()
            body = response.json()
            request_id = body.get("requestId") or body["request_id"]
            run = wait_run(dagster, tag=("kariz/request", request_id))
            out.append(timing(run, sent))
            print(f"request {len(out)}: created {out[-1][0]:.2f}s started {out[-1][1]:.2f}s", flush=True)
            # the next request waits for this one's row to leave `queued` (identical queued requests merge)
            while http.get(f"{api}/requests/{request_id}").json()["status"] == "queued":
                time.sleep(0.05)
            time.sleep(0.5)
    return out


def _request_run(dagster: str, request_id: str, sent: float) -> tuple[float, float]:
    return timing(wait_run(dagster, tag=("kariz/request", request_id)), sent)


def reindexes(api: str, dagster: str, key: str, collections: list[str]) -> list[tuple[float, float]]:
    """(request → run created, request → run started) for `POST /admin/reindex/{collection}`, one per
    collection: the API launches `reindex_collection_job` in the collection's partition."""
    out = []
    with httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=30) as http:
        for collection in collections:
            sent = time.time()
            response = http.post(f"{api}/admin/reindex/{collection}")
            response.raise_for_status()
            out.append(_request_run(dagster, response.json()["request_id"], sent))
            print(f"reindex {len(out)}: created {out[-1][0]:.2f}s started {out[-1][1]:.2f}s", flush=True)
            time.sleep(1)
    return out


def first_pulls(api: str, dagster: str, key: str, n: int) -> list[tuple[float, float]]:
    """(pull request → run created, → run started) for the first pull of `n` connectors, each
    registered just before it (so its partition is new to Dagster)."""
    out = []
    with httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=30) as http:
        for i in range(n):
            body = {
                "name": f"bench source {i} {uuid.uuid4().hex[:6]}",
                "connector_type": "postgresql",
                "vertical": f"bench_pull_{i}",
                "entity_type": "row",
                "connection_config": {"dsn": SOURCE_DSN},
                "query": "SELECT 1 AS id",
            }
            created = http.post(f"{api}/connectors", json=body)
            created.raise_for_status()
            sent = time.time()
            response = http.post(f"{api}/connectors/{created.json()['id']}/pull", params={"wait": "false"})
            response.raise_for_status()
            out.append(_request_run(dagster, response.json()["request_id"], sent))
            print(f"first pull {len(out)}: created {out[-1][0]:.2f}s started {out[-1][1]:.2f}s", flush=True)
            time.sleep(1)
    return out


def uploads(api: str, dagster: str, tenant: str, key: str, n: int) -> tuple[list[tuple[float, float]], list[str]]:
    """(upload → embedding run created, upload → embedding run started) for `n` CSV uploads, each
    into a new collection: the API launches the collection's embedding run after the ingestion
    commits (api/requests/launch.launch_embedding), the embedding sensor being the fallback; and the
    collections' names."""
    out, names = [], []
    headers = {"Authorization": f"Bearer {key}"}
    run_filter = {"pipelineName": "embed_collection_job", "tags": [{"key": "kariz/tenant", "value": tenant}]}
    with httpx.Client(headers=headers, timeout=60) as http:
        for i in range(n):
            rows = "".join(f"part {i}-{j},{j}\n" for j in range(50))
            names.append(f"bench_upload_{i}_{uuid.uuid4().hex[:6]}")
            sent = time.time()
            response = http.post(
                f"{api}/ingest/{names[-1]}/file",
                params={"entity_type": "part"},
                files={"file": ("parts.csv", f"name,price\n{rows}".encode())},
            )
            response.raise_for_status()
            deadline = time.monotonic() + 180
            run = None
            while run is None and time.monotonic() < deadline:
                found = graphql(dagster, RUNS_QUERY, {"filter": run_filter})["runsOrError"]["results"]
                run = next((r for r in found if r["creationTime"] >= sent - 0.5 and r["startTime"]), None)
                time.sleep(0.05)
            if run is None:
                raise SystemExit(f"no embedding run started for upload {i} within 180 s")
            out.append(timing(run, sent))
            print(f"upload {len(out)}: created {out[-1][0]:.2f}s started {out[-1][1]:.2f}s", flush=True)
            time.sleep(2)  # the run embeds its 50 records before the next upload
    return out, names


def direct_launches(dagster: str, n: int) -> list[tuple[float, float]]:
    """(launchRun → run created, launchRun → run started) for `n` runs of the same job, no request row
    (the run fails in its op on the unknown request id, after it STARTED)."""
    out = []
    for _ in range(n):
        params = {
            "selector": {
                "repositoryLocationName": "kariz",
                "repositoryName": "__repository__",
                "jobName": "housekeeping_job",
            },
            "runConfigData": {"ops": {"tenant_housekeeping": {"config": {"request_id": str(uuid.uuid4())}}}},
            "executionMetadata": {"tags": [{"key": "kariz/bench", "value": "baseline"}]},
        }
        sent = time.time()
        result = graphql(dagster, LAUNCH, {"params": params})["launchRun"]
        if result["__typename"] != "LaunchRunSuccess":
            raise SystemExit(f"launchRun: {result}")
        run = wait_run(dagster, run_id=result["run"]["runId"])
        out.append(timing(run, sent))
        print(f"launchRun {len(out)}: created {out[-1][0]:.2f}s started {out[-1][1]:.2f}s", flush=True)
        time.sleep(0.5)
    return out


def summary(label: str, samples: list[tuple[float, float]]) -> str:
    created = sorted(s[0] for s in samples)
    started = sorted(s[1] for s in samples)
    queued = sorted(s[1] - s[0] for s in samples)  # run created -> STARTED: queue, launcher, run worker
    return (
        f"| {label} | {len(samples)} | {pct(created, 50):.2f} | {pct(created, 95):.2f} | "
        f"{pct(queued, 50):.2f} | {pct(queued, 95):.2f} | "
        f"{pct(started, 50):.2f} | {pct(started, 95):.2f} | {max(started):.2f} |"
    )


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--burn", type=int, default=0, help="busy-looping processes during the measurement")
    args = parser.parse_args()
    from dagster._daemon.sensor import MIN_INTERVAL_LOOP_TIME

    from orchestration.definitions import defs

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the stack on the way out
    interval = defs.resolve_sensor_def("housekeeping_request_sensor").minimum_interval_seconds
    with tempfile.TemporaryDirectory() as tmp:
        proc, api, dagster, tenant, key = start_stack(Path(tmp))
        burners: list[subprocess.Popen] = []
        try:
            time.sleep(10)  # the daemon's first sensor ticks, the code server warm
            burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.burn)]
            if burners:
                time.sleep(20)  # the load average catches up
            before, before_uptime = os.getloadavg(), uptime()
            via_api = api_requests(api, dagster, tenant, key, args.requests)
            via_upload, collections = uploads(api, dagster, tenant, key, args.requests)
            via_reindex = reindexes(api, dagster, key, collections)
            via_first_pull = first_pulls(api, dagster, key, args.requests)
            direct = direct_launches(dagster, args.requests)
            after, after_uptime = os.getloadavg(), uptime()
        finally:
            for burner in burners:
                burner.kill()
            proc.send_signal(signal.SIGINT)
            proc.wait(120)
    print(
        f"load average {before[0]:.2f} before, {after[0]:.2f} after, on {os.cpu_count()} cores; "
        f"request sensor minimum_interval_seconds={interval}, daemon sensor loop every "
        f"{MIN_INTERVAL_LOOP_TIME}s"
    )
    print(f"uptime before: {before_uptime}\nuptime after:  {after_uptime}")
    print(
        "| path | runs | → run created p50 s | p95 s | created → STARTED p50 s | p95 s | → run STARTED p50 s | p95 s | max s |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    print(summary("API request → run (API launchRun after commit)", via_api))
    print(summary("CSV upload → its embedding run (API launchRun after commit)", via_upload))
    print(summary("reindex request → its run (partition added + launchRun)", via_reindex))
    print(summary("new connector's first pull → its run (partition added + launchRun)", via_first_pull))
    print(summary("baseline: GraphQL launchRun", direct))


if __name__ == "__main__":
    main()
