"""Pull rows from PostgreSQL with asyncpg: a server-side cursor inside a read-only transaction."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg

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
from connectors.postgresql import config as config_rules
from connectors.postgresql.config import validate_query
from connectors.sql_statements import bind_last_pull

APPLICATION_NAME = "kariz-connector"
# `:last_pull` becomes a typed parameter; the cast lets it compare with timestamp, timestamptz and date
PLACEHOLDER = "($1::timestamptz)"
CLOSE_TIMEOUT_S = 5.0


class PostgreSQLSource(SourceConnector):
    """A PostgreSQL database reached through its DSN."""

    kind = "postgresql"
    rules = config_rules

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

    @staticmethod
    async def _close(conn: asyncpg.Connection) -> None:
        try:
            await asyncio.wait_for(conn.close(), CLOSE_TIMEOUT_S)
        except Exception:  # a broken connection cannot close politely
            conn.terminate()

    def _query_error(self, exc: BaseException) -> SourceError:
        if isinstance(exc, asyncpg.PostgresError):
            state = exc.sqlstate or ""
            detail = f"{exc} (SQLSTATE {state})"
            if state == "25006":
                return self.error(SourceWriteRefused, f"the query tried to write: {detail}")
            if state == "42501":
                return self.error(SourceAuthFailed, f"not allowed to read: {detail}")
            if state[:2] in ("42", "22", "0A", "21"):
                return self.error(SourceQueryInvalid, f"the query cannot run: {detail}")
            if state[:2] in ("08", "57") and state != "57014":
                return self.error(SourceLost, f"the server ended the connection: {detail}")
            return self.error(SourceError, f"the query failed: {detail}")
        return self.error(SourceLost, f"the connection broke: {type(exc).__name__} {exc}")

    # -- interface -----------------------------------------------------------------------------

    def check(self) -> ConnectionCheck:
        async def probe() -> str:
            conn = await self._connect()
            try:
                return str(await conn.fetchval("SHOW server_version"))
            finally:
                await self._close(conn)

        try:
            return ConnectionCheck(ok=True, source=self.source, server_version=run_coroutine(probe()))
        except SourceError as exc:
            return ConnectionCheck(ok=False, source=self.source, error=exc)

    def stream(
        self, query: str, *, last_pull: dt.datetime | None = None, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> Iterator[Batch]:
        validate_query(query)
        sql, uses = bind_last_pull(query, PLACEHOLDER)
        args = (as_watermark(last_pull),) if uses else ()
        raw = iterate_async(self._stream(sql, args, check_batch_size(batch_size)))
        return convert_batches(raw, self._values)

    async def _stream(self, sql: str, args: tuple[Any, ...], batch_size: int) -> AsyncIterator[RawBatch]:
        conn = await self._connect()
        try:
            async with conn.transaction(readonly=True):
                statement = await conn.prepare(sql)
                columns = [a.name for a in statement.get_attributes()]
                cursor = await statement.cursor(*args)
                while True:
                    records = await cursor.fetch(batch_size)
                    if records:
                        yield columns, records
                    if len(records) < batch_size:
                        break
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
            raise self._query_error(exc) from None
        finally:
            await self._close(conn)
