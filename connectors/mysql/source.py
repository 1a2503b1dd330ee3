"""Pull rows from MySQL / MariaDB with asyncmy: an unbuffered cursor in a read-only transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncmy
from asyncmy.cursors import SSCursor
from asyncmy.errors import MySQLError

from connectors.async_bridge import iterate_async, run_coroutine
from connectors.base import (
    DEFAULT_BATCH_SIZE,
    Batch,
    ConnectionCheck,
    RawBatch,
    SourceConnector,
    as_watermark,
    check_batch_size,
    convert_batches,
)
from connectors.errors import (
    SourceAuthFailed,
    SourceError,
    SourceLost,
    SourceQueryInvalid,
    SourceUnreachable,
    SourceWriteRefused,
)
from connectors.mysql import config as config_rules
from connectors.mysql.config import validate_query
from connectors.sql_statements import bind_last_pull

PROGRAM_NAME = "kariz-connector"
AUTH_CODES = frozenset({1044, 1045, 1049, 1142, 1143, 1227, 1698})  # access denied, unknown database
UNREACHABLE_CODES = frozenset({2002, 2003, 2005, 2026})  # cannot connect, unknown host, TLS
LOST_CODES = frozenset({1053, 1927, 2006, 2013, 2014, 2055})  # shutdown, killed, gone away, lost
WRITE_CODES = frozenset({1792, 1290, 1836})  # read-only transaction, --read-only server
QUERY_CODES = frozenset({1054, 1064, 1109, 1146, 1149, 1052, 1060, 1241, 1242, 1305, 1582, 1583})


def _code(exc: BaseException) -> int | None:
    args = getattr(exc, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


class MySQLSource(SourceConnector):
    """A MySQL or MariaDB database reached by host, port, user, password and database."""

    kind = "mysql"
    rules = config_rules

    async def _connect(self) -> Any:
        cfg = self.config
        host, _ = self.pinned_endpoints()[0]
        try:
            conn = await asyncmy.connect(
                host=host,
                port=cfg.port,
                user=cfg.user,
                password=cfg.password,
                database=cfg.database,
                connect_timeout=cfg.connect_timeout,
                charset="utf8mb4",
                autocommit=True,
                program_name=PROGRAM_NAME,
            )
        except MySQLError as exc:
            code = _code(exc)
            if code in AUTH_CODES:
                raise self.error(SourceAuthFailed, f"login refused (error {code})") from None
            raise self.error(SourceUnreachable, f"cannot connect: {exc}") from None
        except (OSError, TimeoutError) as exc:
            raise self.error(SourceUnreachable, f"cannot connect: {type(exc).__name__} {exc}") from None
        try:
            async with conn.cursor() as cur:
                # session in UTC, so TIMESTAMP columns compare with the UTC watermark
                await cur.execute("SET time_zone = '+00:00'")
        except BaseException:
            conn.close()
            raise
        return conn

    def _query_error(self, exc: BaseException) -> SourceError:
        code = _code(exc)
        if isinstance(exc, MySQLError):
            detail = f"{exc.args[1] if len(exc.args) > 1 else exc} (error {code})"
            if code in WRITE_CODES:
                return self.error(SourceWriteRefused, f"the query tried to write: {detail}")
            if code in AUTH_CODES:
                return self.error(SourceAuthFailed, f"not allowed to read: {detail}")
            if code in QUERY_CODES or isinstance(exc, asyncmy.errors.ProgrammingError):
                return self.error(SourceQueryInvalid, f"the query cannot run: {detail}")
            if code in LOST_CODES or isinstance(exc, asyncmy.errors.InterfaceError):
                return self.error(SourceLost, f"the server ended the connection: {detail}")
            return self.error(SourceError, f"the query failed: {detail}")
        return self.error(SourceLost, f"the connection broke: {type(exc).__name__} {exc}")

    def check(self) -> ConnectionCheck:
        async def probe() -> str:
            conn = await self._connect()
            try:
                async with conn.cursor() as cur:
                    await cur.execute("SELECT VERSION()")
                    return str((await cur.fetchone())[0])
            finally:
                conn.close()

        try:
            return ConnectionCheck(ok=True, source=self.source, server_version=run_coroutine(probe()))
        except SourceError as exc:
            return ConnectionCheck(ok=False, source=self.source, error=exc)

    def stream(
        self, query: str, *, last_pull: dt.datetime | None = None, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> Iterator[Batch]:
        validate_query(query)
        # asyncmy interpolates with `%`-formatting whenever arguments are passed: escape literal `%`
        sql, uses = bind_last_pull(query.replace("%", "%%"), "%s")
        if uses:
            watermark = as_watermark(last_pull).replace(tzinfo=None)  # naive UTC: the session zone
            args: tuple[Any, ...] | None = (watermark,) * uses
        else:
            sql, args = query, None
        raw = iterate_async(self._stream(sql, args, check_batch_size(batch_size)))
        return convert_batches(raw, self._values)

    async def _stream(
        self, sql: str, args: tuple[Any, ...] | None, batch_size: int
    ) -> AsyncIterator[RawBatch]:
        conn = await self._connect()
        try:
            cur = conn.cursor(SSCursor)
            await cur.execute("START TRANSACTION READ ONLY")
            await cur.execute(sql, args)
            columns = [d[0] for d in cur.description or ()]
            while True:
                rows = await cur.fetchmany(batch_size)
                if rows:
                    yield columns, rows
                if len(rows) < batch_size:
                    break
        except (MySQLError, OSError) as exc:
            raise self._query_error(exc) from None
        finally:
            # closing the socket (not the cursor) so an abandoned stream is not drained row by row
            conn.close()
