"""`kariz up` from cold: seconds until the API and the Dagster UI answer, resident memory of the
whole stack, and seconds for Ctrl-C to stop every process; beside the embedded PostgreSQL's own
start in the same run (the floor of any start-up).

    .venv/bin/python bench/stack_startup.py [--runs 2]

Each run uses a fresh data dir for the first start (initdb, migrations, demo tenant) and restarts on
it for the second (warm: data kept).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.db.embedded import start_embedded_server, stop_embedded_server  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, deadline: float) -> float | None:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return time.monotonic()
        except OSError:
            time.sleep(0.1)
    return None


def stack_processes(data_dir: Path) -> list[psutil.Process]:
    """The supervisor's children (their own sessions), their descendants, and PostgreSQL's."""
    found: dict[int, psutil.Process] = {}
    for p in psutil.process_iter(["pid", "cmdline"]):
        try:
            cmd = " ".join(p.info["cmdline"] or [])
            if str(data_dir) in cmd or p.environ().get("KARIZ_DATA_DIR") == str(data_dir):
                found[p.pid] = p
                for child in p.children(recursive=True):
                    found[child.pid] = child
        except psutil.Error:
            continue
    return list(found.values())


def rss_mb(processes: list[psutil.Process]) -> float:
    total = 0
    for p in processes:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total / 2**20


def one_start(data_dir: Path) -> dict[str, float]:
    api_port, dagster_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KARIZ_", "DATABASE_URL"))}
    env["KARIZ_DATA_DIR"] = str(data_dir)
    started = time.monotonic()
    proc = subprocess.Popen([str(ROOT / ".venv/bin/kariz"), "up", "--api-port", str(api_port),
                             "--dagster-port", str(dagster_port)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    deadline = started + 300
    api_at = wait_http(f"http://127.0.0.1:{api_port}/api/v1/health/ready", deadline)
    dagster_at = wait_http(f"http://127.0.0.1:{dagster_port}/server_info", deadline)
    for line in proc.stdout:
        if line.startswith("ready in"):
            break
    ready_at = time.monotonic()
    time.sleep(15)  # let the daemon's sensors tick and the code servers settle
    processes = stack_processes(data_dir)
    memory = rss_mb(processes)
    stop_from = time.monotonic()
    proc.send_signal(signal.SIGINT)
    proc.wait(120)
    stopped = time.monotonic() - stop_from
    left = [p for p in stack_processes(data_dir) if p.status() != psutil.STATUS_ZOMBIE]
    return {
        "api_s": (api_at or float("nan")) - started,
        "dagster_s": (dagster_at or float("nan")) - started,
        "ready_s": ready_at - started,
        "processes": len(processes),
        "rss_mb": memory,
        "stop_s": stopped,
        "left": len(left),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print("| start | embedded PostgreSQL alone s | API ready s | Dagster UI ready s | all ready s |"
          " processes | RSS MB | Ctrl-C to all stopped s | left behind |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            base = Path(tmp)
            t0 = time.monotonic()
            start_embedded_server(base / "baseline" / "pg")
            pg_alone = time.monotonic() - t0
            stop_embedded_server(base / "baseline" / "pg")
            for label in ("cold (new data dir)", "warm (restart)"):
                r = one_start(base / "var")
                print(f"| {label} | {pg_alone:.1f} | {r['api_s']:.1f} | {r['dagster_s']:.1f} | {r['ready_s']:.1f} |"
                      f" {r['processes']} | {r['rss_mb']:.0f} | {r['stop_s']:.1f} | {r['left']} |")


if __name__ == "__main__":
    main()
