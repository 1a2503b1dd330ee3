"""The `kariz` command line for operators.

Subcommands from other areas live in `kariz/cli_<area>.py` modules exposing `command` (a click
command or group); they are registered here automatically.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
import uuid
from datetime import UTC, datetime, timedelta

import click

import kariz
from core.errors import KarizError
from core.settings import get_settings
from kariz.instance import existing_database_url, running_instance


def _app_url() -> str:
    """The application database, created when missing (for `kariz migrate`)."""
    from core.db.embedded import resolve_database_urls

    return resolve_database_urls(get_settings())[0]


def _session():
    """A session on the existing database; NoInstance (one line, exit 1) rather than an empty one."""
    from core.db.engine import make_session_factory, make_sync_engine, session_scope

    url = existing_database_url(get_settings())
    return session_scope(make_session_factory(make_sync_engine(url, pool_size=1)))


@click.group()
@click.version_option(package_name="kariz")
def main() -> None:
    """Kariz: a multi-tenant, Dagster-orchestrated data platform."""


@main.command()
@click.option("--api-port", type=int, default=None, help="API port (default 8000 or KARIZ_API_PORT).")
@click.option("--dagster-port", type=int, default=None, help="Dagster UI port (default 3000 or KARIZ_DAGSTER_PORT).")
def up(api_port: int | None, dagster_port: int | None) -> None:
    """Run PostgreSQL (embedded unless DATABASE_URL), Dagster and the API until Ctrl-C."""
    from kariz.stack import run_stack

    settings = get_settings()
    sys.exit(run_stack(settings, api_port=api_port or settings.api_port,
                       dagster_port=dagster_port or settings.dagster_port, echo=click.echo))


@main.command()
def migrate() -> None:
    """Apply every database migration."""
    from core.db.migrate import upgrade

    upgrade(_app_url())
    click.echo("migrated")


@main.group()
def tenant() -> None:
    """Tenants."""


@tenant.command("create")
@click.argument("name")
@click.option("--email", default=None)
def tenant_create(name: str, email: str | None) -> None:
    """Create a tenant and print an admin key for it (shown once)."""
    from core.security.api_keys import ALL_TENANT_SCOPES
    from core.tenants import service

    with _session() as session:
        created = service.create_tenant(session, name, email=email)
        issued = service.create_api_key(session, created.id, "admin", ALL_TENANT_SCOPES)
        click.echo(json.dumps({"tenant_id": str(created.id), "name": created.name, "api_key": issued.raw,
                               "scopes": issued.key.scopes}, indent=2))


@main.group()
def key() -> None:
    """API keys."""


@key.command("create")
@click.option("--tenant", "tenant_ref", required=True, help="Tenant id or name.")
@click.option("--scope", "scopes", multiple=True, required=True,
              help="Repeat for each scope: admin, system:admin, tenant:read, tenant:write, chat:read, ...")
@click.option("--name", default="cli", show_default=True)
@click.option("--expires-days", type=click.IntRange(min=1), default=None,
              help="days until the key expires (at least 1; omit for a key that does not expire)")
def key_create(tenant_ref: str, scopes: tuple[str, ...], name: str, expires_days: int | None) -> None:
    """Issue an API key; the secret is printed once and only its hash is stored."""
    from core.tenants import service

    expires = datetime.now(UTC) + timedelta(days=expires_days) if expires_days else None
    with _session() as session:
        found = service.find_tenant(session, tenant_ref)
        issued = service.create_api_key(session, found.id, name, list(scopes), expires_at=expires)
        click.echo(json.dumps({"key_id": str(issued.key.id), "tenant_id": str(found.id), "api_key": issued.raw,
                               "scopes": issued.key.scopes,
                               "expires_at": expires.isoformat() if expires else None}, indent=2))


@key.command("revoke")
@click.option("--tenant", "tenant_ref", required=True)
@click.argument("key_id")
def key_revoke(tenant_ref: str, key_id: str) -> None:
    """Revoke a key by id."""
    from core.tenants import service

    with _session() as session:
        found = service.find_tenant(session, tenant_ref)
        service.revoke_api_key(session, found.id, uuid.UUID(key_id))
    click.echo("revoked")


@main.command()
@click.option("--url", default=None, help="API base URL to probe (default: the running instance's).")
def status(url: str | None) -> None:
    """Database, schema, tenants, records, queued work, and whether the API and Dagster answer."""
    import urllib.request

    import sqlalchemy as sa

    from core.db.models import Record, Tenant
    from core.db.urls import redacted
    from core.requests import queue_depth

    settings = get_settings()
    report: dict = {"data_dir": str(settings.data_dir), "embedded_database": settings.uses_embedded_database}
    instance = running_instance(settings)
    report["instance"] = f"kariz up (pid {instance.pid})" if instance else "none running"
    report["database"] = redacted(existing_database_url(settings))
    with _session() as session:
        report["schema_revisions"] = sorted(
            r for (r,) in session.execute(sa.text("SELECT version_num FROM alembic_version"))
        )
        report["tenants"] = session.execute(sa.select(sa.func.count()).select_from(Tenant)).scalar_one()
        report["records"] = session.execute(sa.select(sa.func.count()).select_from(Record)).scalar_one()
        report["queued_requests"] = queue_depth(session)
    api = (url.rstrip("/").removesuffix("/api/v1") if url else None) or (
        instance.api_url.removesuffix("/api/v1") if instance else f"http://{settings.api_host}:{settings.api_port}")
    dagster = instance.dagster_url if instance else f"http://{settings.dagster_host}:{settings.dagster_port}"
    for name, probe in (("api", f"{api}/api/v1/health"), ("dagster", f"{dagster}/server_info")):
        try:
            with urllib.request.urlopen(probe, timeout=2) as response:
                report[name] = f"up ({probe})" if response.status == 200 else f"status {response.status}"
        except OSError:
            report[name] = "down"
    click.echo(json.dumps(report, indent=2))


def _register_area_commands() -> None:
    for info in pkgutil.iter_modules(kariz.__path__):
        if info.name.startswith("cli_"):
            module = importlib.import_module(f"kariz.{info.name}")
            command = getattr(module, "command", None)
            if isinstance(command, click.Command):
                main.add_command(command)


_register_area_commands()


def run() -> None:
    """Entry point that turns domain errors into a one-line message and exit code 2, and an
    unreachable database into one line and exit code 1 (never a traceback)."""
    import sqlalchemy as sa

    try:
        main(standalone_mode=True)
    except KarizError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(2)
    except sa.exc.OperationalError as exc:
        reason = str(exc.orig or exc).strip().splitlines()[0] if str(exc.orig or exc).strip() else "unreachable"
        click.echo(f"error: cannot reach the database: {reason}", err=True)
        sys.exit(1)
