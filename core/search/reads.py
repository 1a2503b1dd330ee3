"""How search's statements run: `fetch` and `fetch_value` over a Reader (sql.Reader).

On the API's bare autocommit connection a statement goes straight to its asyncpg driver connection:
SQLAlchemy's execute path (greenlet hand-off, cursor adaptation, result and row objects) cost
0.6-1.35 ms of CPU a statement in the API's profile against 0.2-0.6 ms for the same `fetch` on the
driver (bench/README.md, "1M records through HTTP beside Tantivy"), and a search runs two to four
statements. The SQL text and its parameters are the same: `:name` parameters become `$n`, the
driver's prepared-statement cache keeps the plans, and the connection's own type codecs (jsonb as
Python values, set by SQLAlchemy's dialect when it connected) decode the rows. Errors are raised as
SQLAlchemy's (`sqlalchemy.exc.DBAPIError`), as they were before, and a connection the driver found
dead is invalidated so the pool does not hand it out again.

Any other Reader (an ORM session: tests bound to their transaction, Dagster) runs through SQLAlchemy
as before, so what a transaction sees is unchanged.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection

from core.search.sql import Reader, text_clause

# `:name` but not the `::type` of a cast (search SQL holds no other colon outside parameters:
# literals are fixed fragments and plain field names, which exclude `:`)
_PARAMETER = re.compile(r"(?<![:\w]):(?!:)([A-Za-z_]\w*)")


@functools.lru_cache(maxsize=1024)
def positional(sql: str) -> tuple[str, tuple[str, ...]]:
    """`sql` with `:name` parameters as `$1, $2, ...` and the names in their order (each name once)."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _PARAMETER.sub(number, sql), tuple(names)


class Row:
    """A fetched row: columns by attribute (`row.score`), by position and by unpacking, as SQLAlchemy's."""

    __slots__ = ("_record",)

    def __init__(self, record: Any) -> None:
        self._record = record

    def __getattr__(self, name: str) -> Any:
        try:
            return self._record[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, index: int) -> Any:
        return self._record[index]

    def __iter__(self):
        return iter(self._record.values())

    def __len__(self) -> int:
        return len(self._record)


def _direct(reader: Reader) -> bool:
    return (
        isinstance(reader, AsyncConnection)
        and reader.sync_connection is not None
        and reader.sync_connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
    )


async def _driver_fetch(reader: AsyncConnection, sql: str, params: dict[str, Any]) -> list[Any]:
    text, names = positional(sql)
    raw = await reader.get_raw_connection()
    try:
        return await raw.driver_connection.fetch(text, *(params[n] for n in names))
    except Exception as error:
        dbapi = reader.dialect.loaded_dbapi
        try:  # the driver's error as the DB-API error SQLAlchemy would have raised
            raw.dbapi_connection._handle_exception(error)
        except dbapi.Error as translated:
            wrapped = sa_exc.DBAPIError.instance(
                sql, params, translated, dbapi.Error,
                connection_invalidated=reader.dialect.is_disconnect(translated, raw.dbapi_connection, None),
            )
            if wrapped.connection_invalidated:
                await reader.invalidate(wrapped)
            raise wrapped from error
        raise


async def fetch(reader: Reader, statement: sa.TextClause | str, params: dict[str, Any]) -> list[Any]:
    """Every row of `statement` (rows with attribute access, as SQLAlchemy's)."""
    sql = statement if isinstance(statement, str) else statement.text
    if _direct(reader):
        return [Row(r) for r in await _driver_fetch(reader, sql, params)]
    return list((await reader.execute(text_clause(sql), params)).all())


async def fetch_value(reader: Reader, statement: sa.TextClause | str, params: dict[str, Any]) -> Any:
    """The first column of the one row `statement` returns."""
    sql = statement if isinstance(statement, str) else statement.text
    if _direct(reader):
        rows = await _driver_fetch(reader, sql, params)
        if len(rows) != 1:
            raise sa_exc.NoResultFound("no row") if not rows else sa_exc.MultipleResultsFound("rows")
        return rows[0][0]
    return (await reader.execute(text_clause(sql), params)).scalar_one()
