"""The SQL behind an export: which records, which columns, and the COPY statements that stream them.

An export reads one tenant's collection, its active generation, records of one status. Everything
here runs inside the caller's transaction, so the row count, the key union and the rows themselves
come from one snapshot when that transaction is REPEATABLE READ.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from psycopg import sql

from core.db.models import Collection
from core.errors import NotFound

_UTC_ISO = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'


def _utc(column: str) -> sql.Composable:
    return sql.SQL("to_char({} AT TIME ZONE 'UTC', {})").format(
        sql.Identifier("r", column), sql.Literal(_UTC_ISO)
    )


# (output name, SQL expression) in the order every export writes them; collection_data follows.
BASE_COLUMNS: tuple[tuple[str, sql.Composable], ...] = (
    ("record_id", sql.SQL("r.id::text")),
    ("name", sql.Identifier("r", "name")),
    ("record_type", sql.Identifier("r", "record_type")),
    ("status", sql.Identifier("r", "status")),
    ("source_type", sql.Identifier("r", "source_type")),
    ("updated_at", _utc("updated_at")),
    ("created_at", _utc("created_at")),
    ("source_name", sql.Identifier("r", "source_name")),
    ("description_llm", sql.Identifier("r", "description_llm")),
    ("embedding_status", sql.Identifier("r", "embedding_status")),
)
BASE_COLUMN_NAMES: tuple[str, ...] = tuple(name for name, _ in BASE_COLUMNS)


@dataclass(frozen=True)
class ExportScope:
    """The records one export covers."""

    tenant_id: uuid.UUID
    collection_id: uuid.UUID
    collection: str
    generation: int
    status: str


def resolve_scope(conn: sa.Connection, tenant_id: uuid.UUID, collection: str, status: str) -> ExportScope:
    """The scope of `collection` for `tenant_id` at its active generation; NotFound if it has none."""
    row = conn.execute(
        sa.select(Collection.id, Collection.active_generation).where(
            Collection.tenant_id == tenant_id, Collection.name == collection
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"collection {collection!r} not found")
    return ExportScope(tenant_id, row.id, collection, row.active_generation, status)


_SCOPE_SQL = (
    "r.tenant_id = :tenant_id AND r.collection_id = :collection_id "
    "AND r.generation = :generation AND r.status = :status"
)


def _scope_params(scope: ExportScope) -> dict[str, object]:
    return {
        "tenant_id": scope.tenant_id,
        "collection_id": scope.collection_id,
        "generation": scope.generation,
        "status": scope.status,
    }


def count_records(conn: sa.Connection, scope: ExportScope) -> int:
    """How many records the export will write."""
    return conn.execute(
        sa.text(f"SELECT count(*) FROM records r WHERE {_SCOPE_SQL}"), _scope_params(scope)
    ).scalar_one()


def collection_data_keys(conn: sa.Connection, scope: ExportScope) -> list[str]:
    """The union of top-level `collection_data` keys over the scope, in code-point order.

    Sorted in Python rather than SQL so the column order does not depend on the database collation.
    Records whose `collection_data` is not an object contribute no keys.
    """
    keys = conn.execute(
        sa.text(
            "SELECT DISTINCT k FROM records r CROSS JOIN LATERAL jsonb_object_keys("
            "CASE WHEN jsonb_typeof(r.collection_data) = 'object' THEN r.collection_data ELSE '{}'::jsonb END"
            f") AS k WHERE {_SCOPE_SQL}"
        ),
        _scope_params(scope),
    ).scalars()
    return sorted(keys)


def csv_header(keys: list[str]) -> list[str]:
    """CSV column names: the base columns, then one per `collection_data` key.

    A key that collides with a base column name is written as `collection_data.<key>`.
    """
    base = set(BASE_COLUMN_NAMES)
    return [*BASE_COLUMN_NAMES, *(f"collection_data.{k}" if k in base else k for k in keys)]


def _where(scope: ExportScope) -> sql.Composable:
    return sql.SQL(
        "r.tenant_id = {} AND r.collection_id = {} AND r.generation = {} AND r.status = {}"
    ).format(
        sql.Literal(str(scope.tenant_id)),
        sql.Literal(str(scope.collection_id)),
        sql.Literal(scope.generation),
        sql.Literal(scope.status),
    )


def csv_select(scope: ExportScope, keys: list[str]) -> sql.Composed:
    """The SELECT of the CSV rows: base columns, then `collection_data ->> key` for each key.

    Strings come out bare, numbers and booleans as their JSON text, nested values as JSON, and a
    missing key as an empty cell.
    """
    columns = [expr for _, expr in BASE_COLUMNS]
    columns += [sql.SQL("r.collection_data ->> {}").format(sql.Literal(k)) for k in keys]
    return sql.SQL("SELECT {} FROM records r WHERE {}").format(sql.SQL(", ").join(columns), _where(scope))


def json_select(scope: ExportScope) -> sql.Composed:
    """The SELECT of the JSON rows: one JSON object per record, base fields then `collection_data`,
    each followed by the array's comma, so every row is written as it arrives (the writer drops
    the last comma)."""
    pairs: list[sql.Composable] = []
    for name, expr in BASE_COLUMNS:
        pairs += [sql.Literal(name), expr]
    pairs += [sql.Literal("collection_data"), sql.Identifier("r", "collection_data")]
    return sql.SQL("SELECT json_build_object({})::text || ',' FROM records r WHERE {}").format(
        sql.SQL(", ").join(pairs), _where(scope)
    )


def copy_csv(select: sql.Composable) -> sql.Composed:
    """COPY of `select` as CSV rows (no header): PostgreSQL quotes and escapes each field."""
    return sql.SQL("COPY ({}) TO STDOUT (FORMAT csv)").format(select)


def copy_json_lines(select: sql.Composable) -> sql.Composed:
    """COPY of a one-column JSON `select`, one JSON text per line, byte for byte.

    CSV mode with a quote and a delimiter byte that JSON text never contains (PostgreSQL escapes
    every control character inside JSON strings, and its JSON has no raw newlines) means no field
    is ever quoted or escaped, unlike text mode, which would double every backslash.
    """
    return sql.SQL("COPY ({}) TO STDOUT (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')").format(select)
