"""Dependencies injected into handlers: the database session and the settings."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession

from core.settings import Settings


async def provide_db_session(state: State) -> AsyncGenerator[AsyncSession, None]:
    """One session per request; rolled back if the handler raised or did not commit."""
    session: AsyncSession = state.session_factory()
    try:
        yield session
    finally:
        await session.close()


async def provide_read_session(state: State) -> AsyncGenerator[AsyncSession, None]:
    """A session for handlers that only read: no BEGIN/ROLLBACK round trips around its statements
    (autocommit; under READ COMMITTED each statement had its own snapshot anyway)."""
    session: AsyncSession = state.read_session_factory()
    try:
        yield session
    finally:
        await session.close()


def provide_settings(state: State) -> Settings:
    return state.settings
