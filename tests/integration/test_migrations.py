from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from core.db.embedded import ensure_database
from core.db.migrate import alembic_config, upgrade
from core.db.models import Base
from core.db.urls import sync_url


def test_migrations_create_every_model_table_and_round_trip(pg_server_url: str) -> None:
    url = ensure_database(pg_server_url, "kariz_migration_roundtrip")
    upgrade(url)
    engine = sa.create_engine(sync_url(url))
    try:
        tables = set(sa.inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        command.downgrade(alembic_config(url), "base")
        engine.dispose()
        assert "records" not in set(sa.inspect(engine).get_table_names())
        upgrade(url)
        engine.dispose()
        assert "records" in set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
