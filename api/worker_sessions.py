"""The API's one way from async handlers to sync core code: a psycopg 3 Session in a worker thread.

Core domain functions are sync, take a Session and never commit (`core/db/README.md`); a handler
calls them with `run_in_worker_session(db_session, work, commit=True)` when `work` writes. The work
runs in a worker thread on a sync engine bound to the same database as the request's session, so
COPY (psycopg 3 only) and blocking vector-store clients never stall the event loop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa
from litestar.concurrency import sync_to_thread
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
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


def _in_session(engine: sa.Engine, work: Callable[[Session], T], commit: bool) -> T:
    # closing the session rolls back whatever was not committed, and (unlike a rollback) leaves the
    # objects `work` returns loaded, so the handler can render them
    with Session(engine, expire_on_commit=False) as session:
        result = work(session)
        if commit:
            session.commit()
        return result


async def run_in_worker_session(
    db_session: AsyncSession, work: Callable[[Session], T], *, commit: bool = False
) -> T:
    """`work(session)` in a worker thread on a fresh sync Session, committed when `commit` and `work`
    returned; anything uncommitted (an exception, or `commit=False`) is rolled back.

    An app bound to one open connection (`create_app(session_factory=...)` over a test's outer
    transaction) runs `work` on that connection instead, so it sees and joins that transaction; a
    second connection could do neither."""
    if isinstance(db_session.bind, AsyncConnection):
        result = await db_session.run_sync(work)
        if commit:
            await db_session.commit()
        return result
    return await sync_to_thread(_in_session, sync_engine_for(db_session), work, commit)
