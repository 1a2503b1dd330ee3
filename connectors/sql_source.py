"""What the SQL sources (asyncpg, asyncmy) share: the check and the batch-by-batch read-only stream.

A kind opens and closes a connection, names its server version, binds `:last_pull` into its
driver's parameter style, opens a server-side cursor inside a read-only transaction, and maps its
driver's errors; the loops around them are written here once. The async side runs on a private
loop (`connectors.async_bridge`), rows are converted on the caller's thread (`convert_batches`).
"""

from __future__ import annotations

import datetime as dt
from abc import abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, ClassVar

from connectors.async_bridge import iterate_async, run_coroutine
from connectors.base import (
    DEFAULT_BATCH_SIZE,
    Batch,
    ConnectionCheck,
    RawBatch,
    SourceConnector,
    check_batch_size,
    convert_batches,
)
from connectors.errors import (
    SourceAuthFailed,
    SourceError,
    SourceLost,
    SourceQueryInvalid,
    SourceWriteRefused,
)

Fetch = Callable[[int], Awaitable[Sequence[Sequence[Any]]]]

# what a kind's `_classify` calls a driver error -> the error raised and how its message starts
QUERY_FAILURES: dict[str, tuple[type[SourceError], str]] = {
    "write": (SourceWriteRefused, "the query tried to write"),
    "denied": (SourceAuthFailed, "not allowed to read"),
    "invalid": (SourceQueryInvalid, "the query cannot run"),
    "lost": (SourceLost, "the server ended the connection"),
    "failed": (SourceError, "the query failed"),
}


class SQLSource(SourceConnector):
    """A SQL source behind an asyncio driver.

    Subclasses set `driver_errors` (what a running query may raise) and write `_connect`,
    `_close`, `_server_version`, `_bind`, `_cursor` and `_classify`.
    """

    driver_errors: ClassVar[tuple[type[BaseException], ...]]

    @abstractmethod
    async def _connect(self) -> Any:
        """An open connection to a checked endpoint, or the `SourceError` saying why not."""

    @abstractmethod
    async def _close(self, conn: Any) -> None:
        """Close `conn` without waiting on a server that went away."""

    @abstractmethod
    async def _server_version(self, conn: Any) -> str:
        """The server's version string, asked over `conn`."""

    @abstractmethod
    def _bind(self, query: str, last_pull: dt.datetime | None) -> tuple[str, Any]:
        """`(sql, args)`: `query` in the driver's parameter style with `:last_pull` bound."""

    @abstractmethod
    def _cursor(self, conn: Any, sql: str, args: Any) -> AbstractAsyncContextManager[tuple[list[str], Fetch]]:
        """Inside a read-only transaction, `sql` running on a server-side cursor: its column names
        and the coroutine function that fetches the next (at most n) rows."""

    @abstractmethod
    def _classify(self, exc: BaseException) -> tuple[str, str] | None:
        """`(failure, detail)` for a driver's own error, `failure` a key of `QUERY_FAILURES`;
        None for anything else (a broken socket)."""

    def _query_error(self, exc: BaseException) -> SourceError:
        """The `SourceError` for an error raised while the query ran."""
        found = self._classify(exc)
        if found is None:
            return self.error(SourceLost, f"the connection broke: {type(exc).__name__} {exc}")
        failure, detail = found
        cls, text = QUERY_FAILURES[failure]
        return self.error(cls, f"{text}: {detail}")

    def check(self) -> ConnectionCheck:
        async def probe() -> str:
            conn = await self._connect()
            try:
                return await self._server_version(conn)
            finally:
                await self._close(conn)

        try:
            return ConnectionCheck(ok=True, source=self.source, server_version=run_coroutine(probe()))
        except SourceError as exc:
            return ConnectionCheck(ok=False, source=self.source, error=exc)

    def stream(
        self, query: str, *, last_pull: dt.datetime | None = None, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> Iterator[Batch]:
        self.validate_query(query)
        sql, args = self._bind(query, last_pull)
        raw = iterate_async(self._stream(sql, args, check_batch_size(batch_size)))
        return convert_batches(raw, self._values)

    async def _stream(self, sql: str, args: Any, batch_size: int) -> AsyncIterator[RawBatch]:
        conn = await self._connect()
        try:
            async with self._cursor(conn, sql, args) as (columns, fetch):
                while True:
                    rows = await fetch(batch_size)
                    if rows:
                        yield columns, rows
                    if len(rows) < batch_size:
                        break
        except self.driver_errors as exc:
            raise self._query_error(exc) from None
        finally:
            await self._close(conn)
