"""Sync database work from async handlers: a psycopg 3 Session in a worker thread.

The generation service writes records with COPY (psycopg 3 only) and talks to vector stores with
blocking clients, so it cannot run on the API's asyncpg session; it runs in a worker thread on a
sync engine bound to the same database as the request's session.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa
from litestar.concurrency import sync_to_thread
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from core.db.engine import make_sync_engine

T = TypeVar("T")

_ENGINES: dict[str, sa.Engine] = {}
_LOCK = threading.Lock()


def sync_engine_for(db_session: AsyncSession) -> sa.Engine:
    """A process-wide psycopg 3 engine on the database of `db_session`."""
    bind = db_session.bind
    url = getattr(bind, "url", None) or bind.engine.url  # an AsyncEngine, or an AsyncConnection
    key = url.render_as_string(hide_password=False)
    with _LOCK:
        if key not in _ENGINES:
            _ENGINES[key] = make_sync_engine(key, pool_size=4)
        return _ENGINES[key]


def _in_session(engine: sa.Engine, work: Callable[[Session], T]) -> T:
    with Session(engine, expire_on_commit=False) as session:
        try:
            return work(session)
        finally:
            session.rollback()  # whatever `work` did not commit


async def run_in_worker_session(db_session: AsyncSession, work: Callable[[Session], T]) -> T:
    """`work(session)` in a worker thread on a fresh sync Session; uncommitted work is rolled back."""
    return await sync_to_thread(_in_session, sync_engine_for(db_session), work)
