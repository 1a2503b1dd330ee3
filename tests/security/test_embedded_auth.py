"""The embedded PostgreSQL refuses logins without the password, and Kariz never runs as superuser.

A fresh embedded server, as `kariz up` starts it (no `DATABASE_URL`): no password, or a wrong one,
is refused on its socket; its passwords live under `var/secrets` (0600); the API's connections
are the non-superuser application role, which cannot read the server's files.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from api.app import create_app
from core.db.embedded import APP_ROLE, resolve_database_urls, stop_embedded_server
from core.db.migrate import upgrade
from core.settings import Settings, override_settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory):
    settings = Settings(env="test", data_dir=Path(tmp_path_factory.mktemp("embedded")) / "var", jwt_secret="x" * 40,
                        connector_encryption_key="pgyQWUDq1bxcIT3XzM5eOeFf3gqRWmtk0fzC4jHKu0M=")
    app_url, dagster_url = resolve_database_urls(settings)
    try:
        yield settings, app_url, dagster_url
    finally:
        stop_embedded_server(settings.pg_dir)


def _socket(url: str) -> str:
    return make_url(url).query["host"]


def test_logins_without_the_password_are_refused(embedded) -> None:
    settings, app_url, _ = embedded
    host = _socket(app_url)
    for user in ("postgres", APP_ROLE):
        with pytest.raises(psycopg.OperationalError, match="no password supplied"):
            psycopg.connect(f"postgresql://{user}@/kariz?host={host}").close()
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(f"postgresql://{user}:guess@/kariz?host={host}").close()
    secrets = settings.data_dir / "secrets"
    for name in ("pg_superuser_password", "pg_app_password"):
        assert stat.S_IMODE(os.stat(secrets / name).st_mode) == 0o600
    hba = (settings.pg_dir / "pg_hba.conf").read_text()
    assert "trust" not in hba and "scram-sha-256" in hba


async def test_the_api_runs_as_the_application_role_which_cannot_read_files(embedded) -> None:
    settings, app_url, dagster_url = embedded
    assert make_url(app_url).username == APP_ROLE and make_url(dagster_url).username == APP_ROLE
    upgrade(app_url)  # migrations run as the application role too (extensions were made for it)
    override_settings(settings)
    try:
        app = create_app(settings)
        for hook in app.on_startup:
            await hook(app)
        try:
            async with app.state.session_factory() as session:
                who = (await session.execute(sa.text(
                    "SELECT current_user, rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user"
                ))).one()
                assert tuple(who) == (APP_ROLE, False, False)
                with pytest.raises(sa.exc.DBAPIError, match="permission denied"):
                    await session.execute(sa.text("SELECT pg_read_file('/etc/passwd')"))
        finally:
            for hook in app.on_shutdown:
                await hook(app)
    finally:
        override_settings(None)
