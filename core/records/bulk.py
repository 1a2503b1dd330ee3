"""Bulk plumbing shared by ingestion and reindexing: the psycopg connection under a SQLAlchemy handle,
and session-private temporary tables filled with COPY."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.orm import Session

Executor = Session | sa.Connection


def driver_connection(db: Executor) -> psycopg.Connection:
    """The psycopg 3 connection behind a SQLAlchemy Session or Connection (same transaction)."""
    conn = db.connection() if isinstance(db, Session) else db
    raw = conn.connection.driver_connection
    if not isinstance(raw, psycopg.Connection):
        raise TypeError("bulk writes need a psycopg 3 (postgresql+psycopg) connection")
    return raw


def temp_table_name(prefix: str) -> str:
    """A fresh temporary table name (generated here, never from user text)."""
    return f"_kariz_{prefix}_{uuid.uuid4().hex[:12]}"


def copy_rows(cur: psycopg.Cursor, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """COPY `rows` into `table` (a name made by `temp_table_name`); returns how many were sent."""
    n = 0
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        write = copy.write_row
        for row in rows:
            write(row)
            n += 1
    return n
