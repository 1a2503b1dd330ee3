"""`kariz up`: PostgreSQL (embedded unless DATABASE_URL is set), migrations, a demo tenant, the
Dagster webserver and daemon, and the API, supervised together until Ctrl-C.

Children run in their own sessions with default signal handlers (a background shell leaves SIGINT
ignored, and Dagster inherits that), so stopping means SIGINT to each child's process group, then
SIGKILL to whatever is left after a grace period.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psutil

from core.db.embedded import resolve_database_urls
from core.db.migrate import upgrade
from core.db.urls import dagster_url, redacted
from core.settings import REPO_ROOT, Settings
from kariz.instance import Instance, clear_state, write_state

GRACE_SECONDS = 10.0


def _reset_signals() -> None:
    # runs in the child before exec: default handlers, nothing blocked
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])


@dataclass
class Child:
    name: str
    args: list[str]
    proc: subprocess.Popen | None = None
    log_path: Path | None = None

    def start(self, env: dict[str, str], cwd: Path, log_dir: Path) -> None:
        self.log_path = log_dir / f"{self.name}.log"
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            self.args,
            env=env,
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_reset_signals,
        )

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def group_members(self) -> list[psutil.Process]:
        """Every process of the child's session (Dagster spawns code servers and run workers)."""
        if self.proc is None:
            return []
        members = []
        for p in psutil.process_iter(["pid"]):
            try:
                if os.getsid(p.pid) == self.proc.pid:
                    members.append(p)
            except (ProcessLookupError, PermissionError, psutil.Error):
                continue
        return members

    def signal_group(self, sig: int) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)
        for p in self.group_members():  # members that moved to their own process group
            with contextlib.suppress(psutil.Error):
                p.send_signal(sig)


@dataclass
class Stack:
    settings: Settings
    api_port: int
    dagster_port: int
    children: list[Child] = field(default_factory=list)

    def wait_http(self, url: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(not c.alive() for c in self.children):
                return False
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status < 500:
                        return True
            except OSError:
                pass
            time.sleep(0.25)
        return False

    def stop(self) -> None:
        for child in self.children:
            child.signal_group(signal.SIGINT)
        deadline = time.monotonic() + GRACE_SECONDS
        while time.monotonic() < deadline and any(c.alive() or c.group_members() for c in self.children):
            time.sleep(0.2)
        for child in self.children:
            if child.alive() or child.group_members():
                child.signal_group(signal.SIGKILL)
            if child.proc is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.proc.wait(5)


def prepare_dagster_home(settings: Settings) -> Path:
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    return home


def ensure_demo_key(settings: Settings, database_url: str) -> tuple[str, str]:
    """The demo tenant and its operator key (kept under the data dir so restarts print the same key)."""
    from core.db.engine import make_session_factory, make_sync_engine, session_scope
    from core.security.api_keys import ALL_TENANT_SCOPES, SYSTEM_SCOPE, hash_key
    from core.tenants import service

    key_file = settings.data_dir / "secrets" / "demo_api_key"
    engine = make_sync_engine(database_url, pool_size=1)
    try:
        with session_scope(make_session_factory(engine)) as session:
            try:
                tenant = service.find_tenant(session, "demo")
            except Exception:
                tenant = service.create_tenant(session, "demo", email="demo@kariz.local")
            if key_file.exists():
                raw = key_file.read_text().strip()
                keys = {k.key_hash: k for k in service.list_api_keys(session, tenant.id)}
                live = keys.get(hash_key(raw))
                if live is not None and live.revoked_at is None:
                    return str(tenant.id), raw
            issued = service.create_api_key(
                session, tenant.id, "demo operator", [*ALL_TENANT_SCOPES, SYSTEM_SCOPE]
            )
            key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            key_file.write_text(issued.raw)
            key_file.chmod(0o600)
            return str(tenant.id), issued.raw
    finally:
        engine.dispose()


def reconcile_vector_aliases(settings: Settings, database_url: str) -> int:
    """Before serving: point every vector alias at its collection's active generation, repairing a
    swap that a crash interrupted on a store whose alias moves are not transactional (Qdrant)."""
    if settings.effective_vector_backend != "qdrant" or not (settings.qdrant_url or "").startswith("http"):
        return 0  # pgvector moves aliases inside the swap's transaction; local Qdrant is per process
    from sqlalchemy.orm import Session

    from core.db.engine import make_sync_engine
    from core.generations import reconcile_aliases
    from core.vectors.factory import make_vector_index

    engine = make_sync_engine(database_url, pool_size=1)
    index = make_vector_index(settings, database_url=database_url)
    try:
        with Session(engine) as session:
            return len(reconcile_aliases(session, index))
    finally:
        index.close()
        engine.dispose()


def run_stack(settings: Settings, *, api_port: int, dagster_port: int, echo=print) -> int:
    """Bring everything up, print where it is, and supervise until interrupted. Returns an exit code."""
    started = time.monotonic()
    settings.check_production()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    log_dir = settings.data_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)

    app_url, dagster_db_url = resolve_database_urls(settings)
    echo(f"database   {redacted(app_url)}" + ("  (embedded)" if settings.uses_embedded_database else ""))
    upgrade(app_url)
    tenant_id, demo_key = ensure_demo_key(settings, app_url)
    if moved := reconcile_vector_aliases(settings, app_url):
        echo(f"repaired {moved} vector alias(es) left by an interrupted swap")
    dagster_home = prepare_dagster_home(settings)

    env = {
        **os.environ,
        "DATABASE_URL": app_url,
        "KARIZ_DATA_DIR": str(settings.data_dir),
        "KARIZ_DAGSTER_PG_URL": dagster_url(dagster_db_url),
        "DAGSTER_HOME": str(dagster_home),
        # the API launches a new request's run through the webserver (api/requests/launch.py), and
        # the request sensors leave young rows to it
        "KARIZ_DAGSTER_URL": f"http://{settings.dagster_host}:{dagster_port}",
        "PYTHONUNBUFFERED": "1",
    }
    bin_dir = Path(sys.executable).parent
    host = settings.api_host
    stack = Stack(
        settings,
        api_port,
        dagster_port,
        children=[
            Child(
                "api",
                [
                    str(bin_dir / "uvicorn"),
                    "--factory",
                    "api.app:app_factory",
                    "--host",
                    host,
                    "--port",
                    str(api_port),
                    "--no-access-log",
                ],
            ),
            Child(
                "dagster-webserver",
                [
                    str(bin_dir / "dagster-webserver"),
                    "-h",
                    settings.dagster_host,
                    "-p",
                    str(dagster_port),
                    "-w",
                    str(REPO_ROOT / "workspace.yaml"),
                ],
            ),
            # `dagster-daemon run`, with the run launcher's forkserver started at once (orchestration/launcher.py)
            Child(
                "dagster-daemon",
                [
                    sys.executable,
                    "-c",
                    "from orchestration.launcher import daemon_main; daemon_main()",
                    "run",
                    "-w",
                    str(REPO_ROOT / "workspace.yaml"),
                ],
            ),
        ],
    )

    stopping = False

    def on_signal(signum, _frame) -> None:  # noqa: ANN001
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    code = 0
    try:
        for child in stack.children:
            child.start(env, REPO_ROOT, log_dir)
        api_ok = stack.wait_http(f"http://{host}:{api_port}/api/v1/health/ready", 60)
        dagster_ok = api_ok and stack.wait_http(
            f"http://{settings.dagster_host}:{dagster_port}/server_info", 90
        )
        if not (api_ok and dagster_ok):
            failed = [c.name for c in stack.children if not c.alive()] or ["timed out"]
            echo(f"start-up failed ({', '.join(failed)}); logs in {log_dir}")
            return 1
        echo(f"api        http://{host}:{api_port}/api/v1   (docs: http://{host}:{api_port}/api/v1/docs)")
        echo(f"portal     http://{host}:{api_port}/portal/   (sign in with the api key below)")
        echo(f"dagster    http://{settings.dagster_host}:{dagster_port}")
        echo(f"tenant     demo ({tenant_id})")
        echo(f"api key    {demo_key}")
        echo(f"logs       {log_dir}")
        state = write_state(
            settings,
            Instance(
                pid=os.getpid(),
                data_dir=str(settings.data_dir),
                api_url=f"http://{host}:{api_port}/api/v1",
                dagster_url=f"http://{settings.dagster_host}:{dagster_port}",
                api_port=api_port,
                dagster_port=dagster_port,
                started_at=datetime.now(UTC).isoformat(),
            ),
        )
        echo(f"state      {state}")
        echo(f"ready in {time.monotonic() - started:.1f}s — Ctrl-C stops everything")
        while not stopping:
            dead = [c for c in stack.children if not c.alive()]
            if dead:
                echo(
                    f"{dead[0].name} exited with {dead[0].proc.returncode}; stopping (see {dead[0].log_path})"
                )
                code = 1
                break
            time.sleep(0.5)
    finally:
        echo("stopping ...")
        clear_state(settings)
        stack.stop()
        if settings.uses_embedded_database:
            from core.db.embedded import stop_embedded_server

            stop_embedded_server(settings.pg_dir)
        echo("stopped")
    return code
