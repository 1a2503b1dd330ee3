"""Finding the running Kariz: `kariz up` writes a state file, the other commands read it.

The state file (`<data dir>/run/kariz-up.json`) names the supervisor's pid, the data folder, the ports
and the API and Dagster URLs; `kariz up` removes it when it stops. Commands that talk to the API take
its URL from there unless `--url` is given, and commands that read the database refuse to create an
empty one: with no instance and no database they print a one-line reason and exit 1.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import click
import psutil
import sqlalchemy as sa

from core.settings import Settings


class NoInstance(click.ClickException):
    """No running Kariz (or no database) where the command looked; exit code 1, one line."""


@dataclass(frozen=True)
class Instance:
    pid: int
    data_dir: str
    api_url: str
    dagster_url: str
    api_port: int
    dagster_port: int
    started_at: str


def state_path(settings: Settings) -> Path:
    return settings.data_dir / "run" / "kariz-up.json"


def write_state(settings: Settings, instance: Instance) -> Path:
    """Write the state file atomically (a reader never sees half of it)."""
    path = state_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_suffix(".part")
    part.write_text(json.dumps(asdict(instance), indent=2))
    os.replace(part, path)
    return path


def clear_state(settings: Settings) -> None:
    state_path(settings).unlink(missing_ok=True)


def running_instance(settings: Settings) -> Instance | None:
    """The instance the state file names, if its supervisor still runs; a stale file is ignored."""
    try:
        raw = json.loads(state_path(settings).read_text())
        instance = Instance(**raw)
    except (OSError, ValueError, TypeError):
        return None
    if not psutil.pid_exists(instance.pid):
        return None
    return instance


def api_base_url(settings: Settings, url: str | None) -> str:
    """`url` when given, else the running instance's API; NoInstance when neither exists."""
    if url:
        return url.rstrip("/")
    instance = running_instance(settings)
    if instance is None:
        raise NoInstance(f"no running Kariz found (no live {state_path(settings)}); start one with "
                         "`kariz up`, or pass --url")
    return instance.api_url.removesuffix("/api/v1").rstrip("/")


def existing_database_url(settings: Settings) -> str:
    """The application database's URL, without creating anything: NoInstance when the embedded data
    folder or the `kariz` database does not exist yet (`kariz up` or `kariz migrate` creates them)."""
    from core.db.embedded import APP_DATABASE, server_url
    from core.db.urls import libpq_url, sync_url, with_database

    if settings.database_url:
        return libpq_url(settings.database_url)
    if not (settings.pg_dir / "PG_VERSION").exists():
        raise NoInstance(f"no Kariz database under {settings.pg_dir} (set KARIZ_DATA_DIR or DATABASE_URL, "
                         "or create one with `kariz up` or `kariz migrate`)")
    server = server_url(settings)
    engine = sa.create_engine(sync_url(with_database(server, "postgres")))
    try:
        with engine.connect() as conn:
            found = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": APP_DATABASE}).first()
    finally:
        engine.dispose()
    if not found:
        raise NoInstance(f"the server under {settings.pg_dir} has no '{APP_DATABASE}' database; "
                         "create it with `kariz up` or `kariz migrate`")
    return with_database(server, APP_DATABASE)
