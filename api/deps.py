"""Dependencies injected into handlers: the database session and the settings."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from core.settings import Settings


async def provide_db_session(state: State) -> AsyncGenerator[AsyncSession, None]:
    """One session per request; rolled back if the handler raised or did not commit."""
    session: AsyncSession = state.session_factory()
    try:
        yield session
    finally:
        await session.close()


async def provide_read_session(state: State) -> AsyncGenerator[AsyncConnection | AsyncSession, None]:
    """For handlers that only read: a bare autocommit connection (no BEGIN/ROLLBACK round trips,
    no ORM session bookkeeping; under READ COMMITTED each statement had its own snapshot anyway).
    An app bound to a test's transaction reads through that transaction's sessions instead."""
    engine = state.get("read_engine")
    if engine is None:
        session: AsyncSession = state.session_factory()
        try:
            yield session
        finally:
            await session.close()
        return
    async with engine.connect() as connection:
        yield connection


def provide_settings(state: State) -> Settings:
    return state.settings
