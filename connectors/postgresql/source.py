"""Pull rows from PostgreSQL with asyncpg: a server-side cursor inside a read-only transaction."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from connectors.base import as_watermark
from connectors.errors import SourceAuthFailed, SourceUnreachable
from connectors.postgresql import config as config_rules
from connectors.sql_source import Fetch, SQLSource
from connectors.sql_statements import bind_last_pull

APPLICATION_NAME = "kariz-connector"
# `:last_pull` becomes a typed parameter; the cast lets it compare with timestamp, timestamptz and date
PLACEHOLDER = "($1::timestamptz)"
CLOSE_TIMEOUT_S = 5.0


class PostgreSQLSource(SQLSource):
    """A PostgreSQL database reached through its DSN."""

    kind = "postgresql"
    rules = config_rules
    driver_errors = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError)

    # -- connection ----------------------------------------------------------------------------

    async def _connect(self) -> asyncpg.Connection:
        # explicit hosts override every host in the DSN: asyncpg connects where the check allowed
        pairs = self.pinned_endpoints(keep_names=self.config.verifies_server_name)
        try:
            conn = await asyncpg.connect(
                self.config.dsn,
                host=[h for h, _ in pairs],
                port=[p for _, p in pairs],
                timeout=self.config.connect_timeout,
                server_settings={"application_name": APPLICATION_NAME, "timezone": "UTC"},
            )
        except (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError) as exc:
            raise self.error(SourceAuthFailed, f"login refused ({exc.sqlstate})") from None
        except asyncpg.InvalidCatalogNameError:
            raise self.error(SourceAuthFailed, "the database does not exist") from None
        except asyncpg.PostgresError as exc:
            raise self.error(SourceUnreachable, f"the server refused the connection: {exc}") from None
        except (TimeoutError, OSError) as exc:
            raise self.error(SourceUnreachable, f"cannot connect: {type(exc).__name__} {exc}") from None
        except ValueError as exc:  # malformed DSN options
            raise self.error(SourceUnreachable, f"cannot connect: {exc}") from None
        for codec in ("json", "jsonb"):
            await conn.set_type_codec(codec, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
        return conn

    async def _close(self, conn: asyncpg.Connection) -> None:
        try:
            await asyncio.wait_for(conn.close(), CLOSE_TIMEOUT_S)
        except Exception:  # a broken connection cannot close politely
            conn.terminate()

    def _classify(self, exc: BaseException) -> tuple[str, str] | None:
        if not isinstance(exc, asyncpg.PostgresError):
            return None
        state = exc.sqlstate or ""
        detail = f"{exc} (SQLSTATE {state})"
        if state == "25006":
            return "write", detail
        if state == "42501":
            return "denied", detail
        if state[:2] in ("42", "22", "0A", "21"):
            return "invalid", detail
        if state[:2] in ("08", "57") and state != "57014":
            return "lost", detail
        return "failed", detail

    # -- the query ------------------------------------------------------------------------------

    async def _server_version(self, conn: asyncpg.Connection) -> str:
        return str(await conn.fetchval("SHOW server_version"))

    def _bind(self, query: str, last_pull: dt.datetime | None) -> tuple[str, tuple[Any, ...]]:
        sql, uses = bind_last_pull(query, PLACEHOLDER)
        return sql, (as_watermark(last_pull),) if uses else ()

    @asynccontextmanager
    async def _cursor(
        self, conn: asyncpg.Connection, sql: str, args: tuple[Any, ...]
    ) -> AsyncIterator[tuple[list[str], Fetch]]:
        async with conn.transaction(readonly=True):
            statement = await conn.prepare(sql)
            columns = [a.name for a in statement.get_attributes()]
            cursor = await statement.cursor(*args)
            yield columns, cursor.fetch
