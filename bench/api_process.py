"""The API as `kariz up` runs it: uvicorn in its own process on a free loopback port, waited for
until `/api/v1/health` answers. Shared by the benchmarks that measure through real HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.loopback import free_port

ROOT = Path(__file__).resolve().parent.parent


def start_api(
    env: dict[str, str], *, tries: int = 300, stderr: Any = None, workers: int = 1
) -> tuple[subprocess.Popen, str]:
    """Start the API with `env` over this process's environment (Redis left out, so every figure is
    PostgreSQL's); return the process and its base URL once it is healthy (`tries` × 0.2 s).
    `stderr`: where its log goes (a file, for benches that read it), this process's by default.
    `workers`: uvicorn worker processes (one by default, as `kariz up` runs it)."""
    port = free_port()
    full_env = {**os.environ, **env}
    full_env.pop("REDIS_URL", None)
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "uvicorn"),
            "--factory",
            "api.app:app_factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
            *(("--workers", str(workers)) if workers > 1 else ()),
        ],
        cwd=ROOT,
        env=full_env,
        stderr=stderr,
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


def unlimited_key(session: Session, tenant_id: object, scopes: tuple[str, ...] = ("tenant:read",)) -> str:
    """A bench key of `tenant_id` with its rate limits lifted (the benches hammer the API, and every
    figure should be the request's, not a 429's); the caller commits."""
    from core.tenants.service import create_api_key

    session.execute(
        sa.text(
            "UPDATE tenants SET per_minute_limit = 100000000, daily_limit = 1000000000, "
            "monthly_request_limit = 1000000000 WHERE id = :t"
        ),
        {"t": tenant_id},
    )
    return create_api_key(session, tenant_id, "bench", list(scopes)).raw
