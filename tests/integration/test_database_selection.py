"""With DATABASE_URL set, Kariz uses that server and starts no embedded one."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from core.db.embedded import DAGSTER_DATABASE, ensure_database, resolve_database_urls
from core.db.urls import dagster_url, sync_url
from core.settings import Settings


def test_external_database_url_is_used_as_given_with_a_dagster_sibling(pg_server_url: str, tmp_path: Path) -> None:
    external = ensure_database(pg_server_url, "kariz_external_choice")
    settings = Settings(data_dir=tmp_path, database_url=external)
    app, dagster = resolve_database_urls(settings)
    assert app == external
    assert sa.engine.make_url(dagster).database == DAGSTER_DATABASE
    assert dagster_url(dagster).startswith("postgresql+psycopg2://")
    assert not (tmp_path / "pg").exists(), "no embedded server may be started"
    engine = sa.create_engine(sync_url(dagster))
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT current_database()")).scalar() == DAGSTER_DATABASE
    finally:
        engine.dispose()


def test_embedded_default_keeps_its_data_under_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    app, dagster = resolve_database_urls(settings)
    assert (tmp_path / "pg" / "PG_VERSION").exists()
    assert sa.engine.make_url(app).database == "kariz"
    assert sa.engine.make_url(dagster).database == DAGSTER_DATABASE
    engine = sa.create_engine(sync_url(app))
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("CREATE TABLE IF NOT EXISTS survives (x int)"))
            conn.commit()
    finally:
        engine.dispose()
    from core.db.embedded import stop_embedded_server

    assert stop_embedded_server(settings.pg_dir)
    # started again on the same folder, the data is still there
    app_again, _ = resolve_database_urls(settings)
    engine = sa.create_engine(sync_url(app_again))
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT to_regclass('survives') IS NOT NULL")).scalar()
    finally:
        engine.dispose()
        stop_embedded_server(settings.pg_dir)
