"""Dagster resources: the database (sync SQLAlchemy over the shared models) and the settings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import dagster as dg
import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.db.engine import make_session_factory, make_sync_engine, session_scope
from core.db.urls import libpq_url
from core.settings import Settings, get_settings


@lru_cache(maxsize=4)
def _engine(url: str) -> sa.Engine:
    # one pool per process and URL: runs of the same worker share it
    return make_sync_engine(url)


class SettingsResource(dg.ConfigurableResource):
    """Kariz settings, read from the environment of the run's process."""

    def get(self) -> Settings:
        return get_settings()


class DatabaseResource(dg.ConfigurableResource):
    """Kariz's PostgreSQL. `url` defaults to `DATABASE_URL`, else the embedded server."""

    url: str | None = None

    @property
    def resolved_url(self) -> str:
        if self.url:
            return libpq_url(self.url)
        from core.db.embedded import resolve_database_urls

        return resolve_database_urls(get_settings())[0]

    @property
    def engine(self) -> sa.Engine:
        return _engine(self.resolved_url)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        with session_scope(make_session_factory(self.engine)) as session:
            yield session


RESOURCES = {"database": DatabaseResource(), "settings": SettingsResource()}
