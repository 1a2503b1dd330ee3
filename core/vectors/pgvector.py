"""The vector index inside PostgreSQL (pgvector): the embedded default.

Each vector collection is a table `kariz_vectors.p_<hash>` (uuid id, `vector(dim)`, jsonb payload)
with an HNSW index on cosine distance and a GIN index on the payload, registered in
`vector_collections`. Aliases are rows of `vector_aliases`; a search resolves its alias and runs in
one transaction, so it reads wholly from the collection the alias named when it started. Moving an
alias is an UPDATE, so it can join a caller's transaction: the generation swap commits the new
active generation and the alias move together, or neither.

Filters become jsonpath predicates (`payload @? '$."data"."price" ? (@ >= 10)'`) evaluated inside
the HNSW scan, with pgvector's iterative scan so selective filters still fill `limit`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import psycopg
import sqlalchemy as sa
from psycopg.types import TypeInfo
from psycopg.types.json import Jsonb
from sqlalchemy.orm import Session

from core.db.engine import make_sync_engine
from core.db.urls import redacted
from core.errors import Conflict, InvalidInput, NotFound, Unavailable
from core.vectors.base import Transaction, VectorHit, VectorIndex, as_ids, as_matrix, as_point_ids, check_name
from core.vectors.filters import Match, MatchAny, Range, VectorFilter

log = logging.getLogger(__name__)

SCHEMA = "kariz_vectors"
UPSERT_BATCH = 1_000

_RESOLVE = sa.text(
    "SELECT c.name, c.table_name, c.dimension,"
    " set_config('hnsw.ef_search', :ef, true), set_config('hnsw.iterative_scan', 'relaxed_order', true)"
    " FROM vector_collections c"
    " WHERE c.name = COALESCE((SELECT a.collection_name FROM vector_aliases a WHERE a.alias = :name), :name)"
)


def points_table(name: str) -> str:
    """The table (inside schema kariz_vectors) holding a collection's points; stable per name."""
    return "p_" + hashlib.sha256(name.encode()).hexdigest()[:40]


def _qualified(table: str) -> str:
    return f'{SCHEMA}."{table}"'


def _jsonpath_literal(value: str | int | float | bool) -> str:
    # json.dumps yields valid jsonpath literals (quoted, escaped strings; true/false; numbers)
    return json.dumps(value)


def _field_path(field: str) -> str:
    return "$" + "".join(f".{json.dumps(part)}" for part in field.split("."))


def filter_jsonpaths(filter: VectorFilter | None) -> list[str]:
    """One jsonpath predicate per condition; a point matches when `payload @?` holds for all."""
    paths: list[str] = []
    for cond in filter.must if filter else ():
        if isinstance(cond, Match):
            test = f"@ == {_jsonpath_literal(cond.value)}"
        elif isinstance(cond, MatchAny):
            test = " || ".join(f"@ == {_jsonpath_literal(v)}" for v in cond.values)
        elif isinstance(cond, Range):
            test = " && ".join(f"@ {op} {_jsonpath_literal(v)}" for op, v in cond.bounds())
        else:  # pragma: no cover - the Condition union is closed
            raise InvalidInput(f"unsupported filter condition {cond!r}")
        paths.append(f"{_field_path(cond.field)} ? ({test})")
    return paths


def _where(filter: VectorFilter | None) -> tuple[str, dict[str, str]]:
    paths = filter_jsonpaths(filter)
    if not paths:
        return "", {}
    clause = " AND ".join(f"payload @? CAST(:f{i} AS jsonpath)" for i in range(len(paths)))
    return f"WHERE {clause}", {f"f{i}": p for i, p in enumerate(paths)}


def _is_undefined_table(exc: sa.exc.DBAPIError) -> bool:
    return isinstance(exc.orig, psycopg.errors.UndefinedTable)


class PgVectorIndex(VectorIndex):
    """pgvector collections and aliases in the PostgreSQL database at `url`."""

    transactional_aliases = True

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 5,
        ef_search: int = 100,
        hnsw_m: int = 16,
        hnsw_ef_construction: int = 64,
        build_memory: str = "1GB",
    ) -> None:
        self.url = url
        self.engine = make_sync_engine(url, pool_size=pool_size)
        self.ef_search = ef_search
        self.hnsw_m = hnsw_m
        self.hnsw_ef_construction = hnsw_ef_construction
        self.build_memory = build_memory
        self._vector_type: TypeInfo | None = None

    def warm(self) -> None:
        """A first pooled connection with the `vector` type looked up and registered (what a
        process's first vector search paid: 25-60 ms through HTTP on a loaded machine)."""
        with self._begin():
            pass

    def close(self) -> None:
        """Close the connection pool."""
        self.engine.dispose()

    # plumbing
    @contextmanager
    def _begin(self) -> Iterator[sa.Connection]:
        """A transaction on a connection that can send and receive `vector` values."""
        with self._errors(), self.engine.begin() as conn:
            if not conn.info.get("kariz_vector_registered"):
                raw = conn.connection.dbapi_connection
                if self._vector_type is None:
                    self._vector_type = TypeInfo.fetch(raw, "vector")
                if self._vector_type is None:
                    raise Unavailable("the pgvector extension is not installed in this database; use Qdrant")
                from pgvector.psycopg.vector import register_vector_info

                register_vector_info(raw, self._vector_type)
                conn.info["kariz_vector_registered"] = True
            yield conn

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except (sa.exc.OperationalError, sa.exc.InterfaceError, psycopg.OperationalError) as exc:
            raise Unavailable(
                f"vector store (PostgreSQL at {redacted(self.url)}) unreachable: {exc}"
            ) from exc

    def _resolve(self, conn: sa.Connection, name: str, limit: int = 0) -> tuple[str, str, int]:
        row = conn.execute(_RESOLVE, {"name": name, "ef": str(max(self.ef_search, limit))}).first()
        if row is None:
            raise NotFound(f"vector collection or alias {name!r} not found")
        return row.name, row.table_name, row.dimension

    @contextmanager
    def _on_points(self, name: str, limit: int = 0) -> Iterator[tuple[sa.Connection, str, int]]:
        """(connection, qualified points table, dimension) for `name`, in one transaction."""
        try:
            with self._begin() as conn:
                _, table, dimension = self._resolve(conn, check_name(name), limit)
                yield conn, _qualified(table), dimension
        except sa.exc.ProgrammingError as exc:
            if _is_undefined_table(exc):  # dropped between resolving and reading
                raise NotFound(f"vector collection {name!r} was dropped") from exc
            raise

    # collections
    def create_collection(self, name: str, dimension: int, *, defer_index: bool = False) -> None:
        check_name(name)
        if not isinstance(dimension, int) or not 0 < dimension <= 16_000:
            raise InvalidInput(f"invalid vector dimension {dimension!r}")
        table = points_table(name)
        with self._errors(), self.engine.begin() as conn:
            created = conn.execute(
                sa.text(
                    "INSERT INTO vector_collections (name, dimension, table_name) VALUES (:n, :d, :t)"
                    " ON CONFLICT (name) DO NOTHING RETURNING name"
                ),
                {"n": name, "d": dimension, "t": table},
            ).first()
            if created is None:
                existing = conn.execute(
                    sa.text("SELECT dimension FROM vector_collections WHERE name = :n"), {"n": name}
                ).scalar_one()
                if existing != dimension:
                    raise Conflict(
                        f"vector collection {name!r} exists with dimension {existing}, not {dimension}"
                    )
                return
            if conn.execute(sa.text("SELECT 1 FROM vector_aliases WHERE alias = :n"), {"n": name}).first():
                raise Conflict(f"{name!r} is already an alias")
            has_vector = conn.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'vector'")).first()
            if not has_vector:
                raise Unavailable("the pgvector extension is not installed in this database; use Qdrant")
            qualified = _qualified(table)
            conn.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
            conn.execute(
                sa.text(
                    f"CREATE TABLE {qualified} (id uuid PRIMARY KEY, embedding vector({dimension}) NOT NULL,"
                    " payload jsonb NOT NULL DEFAULT '{}'::jsonb)"
                )
            )
            if not defer_index:
                conn.execute(sa.text(self._hnsw_ddl(table)))
            conn.execute(
                sa.text(f'CREATE INDEX "{table}_payload" ON {qualified} USING gin (payload jsonb_path_ops)')
            )
        log.info("created vector collection %s (dim %d, table %s)", name, dimension, table)

    def _hnsw_ddl(self, table: str) -> str:
        return (
            f'CREATE INDEX IF NOT EXISTS "{table}_hnsw" ON {_qualified(table)} USING hnsw (embedding vector_cosine_ops)'
            f" WITH (m = {int(self.hnsw_m)}, ef_construction = {int(self.hnsw_ef_construction)})"
        )

    def _has_hnsw(self, conn: sa.Connection, table: str) -> bool:
        found = conn.execute(
            sa.text("SELECT 1 FROM pg_indexes WHERE schemaname = :s AND indexname = :i"),
            {"s": SCHEMA, "i": f"{table}_hnsw"},
        ).first()
        return found is not None

    def build_index(self, name: str) -> bool:
        with self._errors(), self.engine.begin() as conn:
            _, table, _ = self._resolve(conn, check_name(name))
            if self._has_hnsw(conn, table):
                return False
            # the graph is built in memory when it fits: far faster than growing it row by row
            conn.execute(
                sa.text("SELECT set_config('maintenance_work_mem', :m, true)"), {"m": self.build_memory}
            )
            conn.execute(sa.text(self._hnsw_ddl(table)))
        log.info("built the HNSW index of vector collection %s", name)
        return True

    def index_ready(self, name: str) -> bool:
        with self._errors(), self.engine.connect() as conn:
            _, table, _ = self._resolve(conn, check_name(name))
            return self._has_hnsw(conn, table)

    def drop_collection(self, name: str) -> bool:
        check_name(name)
        with self._errors(), self.engine.begin() as conn:
            table = conn.execute(
                sa.text("SELECT table_name FROM vector_collections WHERE name = :n FOR UPDATE"), {"n": name}
            ).scalar()
            if table is None:
                return False
            aliases = (
                conn.execute(
                    sa.text("SELECT alias FROM vector_aliases WHERE collection_name = :n"), {"n": name}
                )
                .scalars()
                .all()
            )
            if aliases:
                raise Conflict(f"vector collection {name!r} is still reached through alias {aliases[0]!r}")
            conn.execute(sa.text("DELETE FROM vector_collections WHERE name = :n"), {"n": name})
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {_qualified(table)}"))
        log.info("dropped vector collection %s", name)
        return True

    def collection_exists(self, name: str) -> bool:
        with self._errors(), self.engine.connect() as conn:
            found = conn.execute(
                sa.text("SELECT 1 FROM vector_collections WHERE name = :n"), {"n": name}
            ).first()
        return found is not None

    def list_collections(self, prefix: str = "") -> list[str]:
        like = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        with self._errors(), self.engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT name FROM vector_collections WHERE name LIKE :p ORDER BY name"), {"p": like}
            )
            return list(rows.scalars())

    def dimension(self, name: str) -> int:
        with self._errors(), self.engine.connect() as conn:
            return self._resolve(conn, check_name(name))[2]

    # points
    def upsert(
        self,
        name: str,
        ids: Sequence[uuid.UUID | str],
        vectors: np.ndarray | Sequence[Sequence[float]],
        payloads: Sequence[Mapping[str, Any]] | None = None,
    ) -> int:
        point_ids = as_point_ids(ids, payloads)
        if not point_ids:
            return 0
        # one statement cannot touch a row twice: the last occurrence of an id wins, as in Qdrant
        last = {pid: i for i, pid in enumerate(point_ids)}
        order = sorted(last.values())
        sql = (
            "INSERT INTO {table} (id, embedding, payload)"
            " SELECT * FROM unnest(%b::uuid[], %b::vector[], %b::jsonb[])"
            " ON CONFLICT (id) DO UPDATE SET embedding = EXCLUDED.embedding, payload = EXCLUDED.payload"
        )
        with self._on_points(name) as (conn, table, dimension):
            matrix = as_matrix(vectors, dimension, len(point_ids))
            # straight to psycopg with binary parameters: ~8x faster than vectors sent as text
            cursor = conn.connection.dbapi_connection.cursor()
            statement = sql.format(table=table)
            for start in range(0, len(order), UPSERT_BATCH):
                chunk = order[start : start + UPSERT_BATCH]
                cursor.execute(
                    statement,
                    (
                        [point_ids[i] for i in chunk],
                        [matrix[i] for i in chunk],
                        [Jsonb(dict(payloads[i]) if payloads else {}) for i in chunk],
                    ),
                )
        return len(order)

    def delete(self, name: str, ids: Sequence[uuid.UUID | str]) -> None:
        point_ids = as_ids(ids)
        if not point_ids:
            return
        with self._on_points(name) as (conn, table, _):
            conn.execute(
                sa.text(f"DELETE FROM {table} WHERE id = ANY(CAST(:ids AS uuid[]))"), {"ids": point_ids}
            )

    def count(self, name: str, filter: VectorFilter | None = None) -> int:
        where, params = _where(filter)
        with self._on_points(name) as (conn, table, _):
            return int(conn.execute(sa.text(f"SELECT count(*) FROM {table} {where}"), params).scalar_one())

    def search(
        self,
        name: str,
        vector: np.ndarray | Sequence[float],
        limit: int = 10,
        filter: VectorFilter | None = None,
    ) -> list[VectorHit]:
        if not isinstance(limit, int) or limit < 1:
            raise InvalidInput(f"limit must be a positive integer, not {limit!r}")
        where, params = _where(filter)
        with self._on_points(name, limit) as (conn, table, dimension):
            query = as_matrix(np.asarray(vector, dtype=np.float32).reshape(1, -1), dimension, 1)[0]
            # relaxed_order lets the HNSW scan continue past filtered-out points; the outer ORDER BY
            # restores exact order among the candidates it returns (pgvector's documented pattern)
            rows = conn.execute(
                sa.text(
                    f"WITH hits AS MATERIALIZED (SELECT id, embedding <=> :q AS distance FROM {table} {where}"
                    " ORDER BY embedding <=> :q LIMIT :k)"
                    " SELECT id, distance FROM hits ORDER BY distance, id"
                ),
                {"q": query, "k": limit, **params},
            ).all()
        return [VectorHit(row.id, 1.0 - float(row.distance)) for row in rows]

    def payloads(self, name: str, ids: Sequence[uuid.UUID | str]) -> dict[uuid.UUID, dict[str, Any]]:
        point_ids = as_ids(ids)
        if not point_ids:
            return {}
        with self._on_points(name) as (conn, table, _):
            rows = conn.execute(
                sa.text(f"SELECT id, payload FROM {table} WHERE id = ANY(CAST(:ids AS uuid[]))"),
                {"ids": point_ids},
            ).all()
        return {row.id: row.payload for row in rows}

    # aliases
    def resolve_alias(self, alias: str) -> str | None:
        with self._errors(), self.engine.connect() as conn:
            return conn.execute(
                sa.text("SELECT collection_name FROM vector_aliases WHERE alias = :a"), {"a": alias}
            ).scalar()

    def swap_alias(
        self,
        alias: str,
        collection: str,
        *,
        expected: str | None = None,
        transaction: Transaction | None = None,
    ) -> str | None:
        check_name(alias)
        check_name(collection)
        if transaction is None:
            with self._errors(), self.engine.begin() as conn:
                return self._move_alias(conn, alias, collection, expected)
        conn = transaction.connection() if isinstance(transaction, Session) else transaction
        with self._errors():
            return self._move_alias(conn, alias, collection, expected)

    def _move_alias(
        self, conn: sa.Connection, alias: str, collection: str, expected: str | None
    ) -> str | None:
        # FOR SHARE on the target keeps a concurrent drop out until this transaction ends
        target = (
            conn.execute(
                sa.text(
                    "SELECT name FROM vector_collections WHERE name = ANY(CAST(:names AS text[])) FOR SHARE"
                ),
                {"names": [collection, alias]},
            )
            .scalars()
            .all()
        )
        if alias in target:
            raise Conflict(f"{alias!r} is a vector collection, not an alias")
        if collection not in target:
            raise NotFound(f"vector collection {collection!r} not found")
        previous = conn.execute(
            sa.text("SELECT collection_name FROM vector_aliases WHERE alias = :a FOR UPDATE"), {"a": alias}
        ).scalar()
        if expected is not None and previous != expected:
            raise Conflict(f"alias {alias!r} points at {previous!r}, not {expected!r}")
        conn.execute(
            sa.text(
                "INSERT INTO vector_aliases (alias, collection_name) VALUES (:a, :c)"
                " ON CONFLICT (alias) DO UPDATE SET collection_name = EXCLUDED.collection_name, updated_at = now()"
            ),
            {"a": alias, "c": collection},
        )
        return previous

    def delete_alias(self, alias: str) -> bool:
        with self._errors(), self.engine.begin() as conn:
            gone = conn.execute(
                sa.text("DELETE FROM vector_aliases WHERE alias = :a RETURNING alias"), {"a": alias}
            ).first()
        return gone is not None

    def aliases(self) -> dict[str, str]:
        with self._errors(), self.engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT alias, collection_name FROM vector_aliases ORDER BY alias")
            ).all()
        return {row.alias: row.collection_name for row in rows}
