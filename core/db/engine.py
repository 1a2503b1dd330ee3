"""Engines and sessions over one set of models: sync for Dagster and the CLI, async for the API."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

from core.db.urls import async_url, sync_url


def make_sync_engine(url: str, *, pool_size: int = 5) -> sa.Engine:
    """A psycopg 3 engine with pre-ping, for Dagster ops, the CLI and bulk loads."""
    return sa.create_engine(sync_url(url), pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def make_async_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    """An asyncpg engine for the API.

    No pre-ping: it would add a round trip to every request (measured: a third of a search's
    database time). Connections are recycled every 30 minutes instead, and one that died with its
    server is invalidated on first use, so the pool heals after a database restart.

    JIT is off on these connections: the API runs short statements, and PostgreSQL compiles any plan
    whose estimated cost passes `jit_above_cost` for tens of milliseconds before running it (asyncpg's
    type introspection on a fresh connection is such a plan; search's page statements at 1M records
    are estimated at 13-25k, below the default 100k, so this is a guard, not a measured gain)."""
    return create_async_engine(async_url(url), pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=False,
                               pool_recycle=1800, connect_args={"server_settings": {"jit": "off"}})


def make_session_factory(engine: sa.Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def make_async_session_factory(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
