"""Pull rows from MySQL / MariaDB with asyncmy: an unbuffered cursor in a read-only transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncmy
from asyncmy.cursors import SSCursor
from asyncmy.errors import MySQLError

from connectors.base import as_watermark
from connectors.errors import SourceAuthFailed, SourceUnreachable
from connectors.mysql import config as config_rules
from connectors.sql_source import Fetch, SQLSource
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


class MySQLSource(SQLSource):
    """A MySQL or MariaDB database reached by host, port, user, password and database."""

    kind = "mysql"
    rules = config_rules
    driver_errors = (MySQLError, OSError)

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

    def _classify(self, exc: BaseException) -> tuple[str, str] | None:
        if not isinstance(exc, MySQLError):
            return None
        code = _code(exc)
        detail = f"{exc.args[1] if len(exc.args) > 1 else exc} (error {code})"
        if code in WRITE_CODES:
            return "write", detail
        if code in AUTH_CODES:
            return "denied", detail
        if code in QUERY_CODES or isinstance(exc, asyncmy.errors.ProgrammingError):
            return "invalid", detail
        if code in LOST_CODES or isinstance(exc, asyncmy.errors.InterfaceError):
            return "lost", detail
        return "failed", detail

    async def _close(self, conn: Any) -> None:
        # closing the socket (not the cursor) so an abandoned stream is not drained row by row
        conn.close()

    async def _server_version(self, conn: Any) -> str:
        async with conn.cursor() as cur:
            await cur.execute("SELECT VERSION()")
            return str((await cur.fetchone())[0])

    def _bind(self, query: str, last_pull: dt.datetime | None) -> tuple[str, tuple[Any, ...] | None]:
        # asyncmy interpolates with `%`-formatting whenever arguments are passed: escape literal `%`
        sql, uses = bind_last_pull(query.replace("%", "%%"), "%s")
        if not uses:
            return query, None
        watermark = as_watermark(last_pull).replace(tzinfo=None)  # naive UTC: the session zone
        return sql, (watermark,) * uses

    @asynccontextmanager
    async def _cursor(
        self, conn: Any, sql: str, args: tuple[Any, ...] | None
    ) -> AsyncIterator[tuple[list[str], Fetch]]:
        cur = conn.cursor(SSCursor)
        await cur.execute("START TRANSACTION READ ONLY")
        await cur.execute(sql, args)
        yield [d[0] for d in cur.description or ()], cur.fetchmany
