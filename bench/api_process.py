"""The API as `kariz up` runs it: uvicorn in its own process on a free loopback port, waited for
until `/api/v1/health` answers. Shared by the benchmarks that measure through real HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.loopback import free_port

ROOT = Path(__file__).resolve().parent.parent


def start_api(env: dict[str, str], *, tries: int = 300) -> tuple[subprocess.Popen, str]:
    """Start the API with `env` over this process's environment (Redis left out, so every figure is
    PostgreSQL's); return the process and its base URL once it is healthy (`tries` × 0.2 s)."""
    port = free_port()
    full_env = {**os.environ, **env}
    full_env.pop("REDIS_URL", None)
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "uvicorn"), "--factory", "api.app:app_factory",
         "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning"],
        cwd=ROOT, env=full_env,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(tries):
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise SystemExit("the API did not start")
        time.sleep(0.2)
    proc.terminate()
    raise SystemExit("the API did not answer")
