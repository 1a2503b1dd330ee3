"""`kariz up` from the outside: one command brings up embedded PostgreSQL, Dagster and the API,
prints a key that works, and Ctrl-C leaves no process behind."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

pytestmark = pytest.mark.timeout(400)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def processes_of(data_dir: Path) -> list[psutil.Process]:
    """Every live process started for this data dir (children inherit KARIZ_DATA_DIR or name it)."""
    found = []
    for p in psutil.process_iter(["pid", "cmdline"]):
        try:
            if p.status() == psutil.STATUS_ZOMBIE:
                continue
            if str(data_dir) in " ".join(p.info["cmdline"] or []) or p.environ().get("KARIZ_DATA_DIR") == str(data_dir):
                found.append(p)
        except psutil.Error:
            continue
    return found


def test_up_serves_a_working_key_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    api_port, dagster_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KARIZ_", "DATABASE_URL", "TEST_DATABASE_URL"))}
    env["KARIZ_DATA_DIR"] = str(data_dir)
    kariz = Path(sys.executable).parent / "kariz"
    proc = subprocess.Popen(
        [str(kariz), "up", "--api-port", str(api_port), "--dagster-port", str(dagster_port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("ready in"):
                break
        output = "".join(lines)
        assert "ready in" in output, output
        key = re.search(r"api key\s+(sk_live_\S+)", output).group(1)
        base = f"http://127.0.0.1:{api_port}/api/v1"
        ready = httpx.get(f"{base}/health/ready", headers={"Authorization": f"Bearer {key}"}, timeout=10)
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
        me = httpx.get(f"{base}/tenants", headers={"x-api-key": key}, timeout=10)
        assert me.status_code == 200 and me.json()["data"]["name"] == "demo"
        assert httpx.get(f"http://127.0.0.1:{dagster_port}/server_info", timeout=10).status_code == 200
        portal = re.search(r"portal\s+(http://\S+/portal/)", output).group(1)
        page = httpx.get(portal, timeout=10)
        assert page.status_code == 200 and "/portal/static/js/app.js" in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert processes_of(data_dir), "the stack's processes should be findable while it runs"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(90)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
    assert proc.returncode == 0, "".join(lines) + proc.stdout.read()
    time.sleep(1)
    leftovers = processes_of(data_dir)
    assert not leftovers, [" ".join(p.cmdline()) for p in leftovers]
    # state survives: the data folder holds the database for the next start
    assert (data_dir / "pg" / "PG_VERSION").exists()
