"""The SQL of the ingestion write path, in one place: collection and generation bootstrap, the staging
temp table filled by COPY, the deduplicating INSERT ... SELECT ... ON CONFLICT, and the ingestion log."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
import sqlalchemy as sa

from core.collections.lookup import require_collection
from core.errors import Conflict, NotFound
from core.records.bulk import Executor
from core.records.searchable import search_text_sql

STAGE_COLUMNS = ("name", "record_type", "collection_data", "description_llm", "content_hash", "identifiers")
BACKPRESSURE_PENDING = 50_000


@dataclass(frozen=True, slots=True)
class Target:
    """Where records land: a tenant's collection and one of its generations."""

    tenant_id: uuid.UUID
    collection_id: uuid.UUID
    collection_name: str
    generation: int


def resolve_target(
    db: Executor, tenant_id: uuid.UUID, collection_name: str, *, generation: int | None, create: bool
) -> Target:
    """The collection (created with an active generation 1 when missing and `create`) and the
    generation to write: the given one (which must be active or staging) or the active one.

    Conflict when writing into the active generation while a replace (a staging generation) is
    pending: the swap would drop those rows."""
    if create:
        db.execute(
            sa.text(
                "INSERT INTO collections (id, tenant_id, name, active_generation, settings) "
                "VALUES (:id, :t, :n, 1, '{}'::jsonb) ON CONFLICT (tenant_id, name) DO NOTHING"
            ),
            {"id": uuid.uuid4(), "t": tenant_id, "n": collection_name},
        )
    collection_id, active = require_collection(db, tenant_id, collection_name)
    if create:
        db.execute(
            sa.text(
                "INSERT INTO generations (id, tenant_id, collection_id, number, status, activated_at) "
                "SELECT :id, :t, :c, :g, 'active', now() "
                "WHERE NOT EXISTS (SELECT 1 FROM generations WHERE collection_id = :c) ON CONFLICT DO NOTHING"
            ),
            {"id": uuid.uuid4(), "t": tenant_id, "c": collection_id, "g": active},
        )
    number = active if generation is None else generation
    if generation is None and db.execute(
        sa.text("SELECT 1 FROM generations WHERE collection_id = :c AND status = 'staging' LIMIT 1"),
        {"c": collection_id},
    ).first():
        # rows written into the active generation now would vanish at the swap
        raise Conflict(
            f"a replace of collection '{collection_name}' is pending: writes to its active generation are "
            "refused until it is swapped or cancelled (they would not survive the swap)"
        )
    if generation is not None:
        status = db.execute(
            sa.text("SELECT status FROM generations WHERE collection_id = :c AND number = :g"),
            {"c": collection_id, "g": generation},
        ).scalar()
        if status is None:
            raise NotFound(f"generation {generation} of collection '{collection_name}' not found")
        if status not in ("active", "staging"):
            raise Conflict(f"generation {generation} of collection '{collection_name}' is {status}")
    return Target(tenant_id, collection_id, collection_name, number)


def _insert_records(source: str, *, keyed: bool) -> str:
    """The INSERT ... SELECT of new records from the staged rows named `source` (without its FROM):
    one statement for both writers, the keyed one also carries `record_key`."""
    key_column, key_value = (", record_key", f", {source}.record_key") if keyed else ("", "")
    return (
        "INSERT INTO records (id, tenant_id, collection_id, generation, name, record_type, collection_data, "
        "description_llm, source_type, source_name, status, embedding_status, content_hash, search_text, "
        f"identifiers, ingestion_id{key_column}) "
        f"SELECT gen_random_uuid(), %(tenant)s, %(collection)s, %(generation)s, {source}.name, {source}.record_type, "
        f"{source}.collection_data, {source}.description_llm, %(source_type)s, %(source_name)s, 'active', 'pending', "
        f"{source}.content_hash, {search_text_sql(source)}, {source}.identifiers, %(ingestion)s{key_value} "
    )


class StagedWriter:
    """Writes prepared rows in chunks: COPY into a private temp table, then one INSERT ... SELECT that
    computes search_text and skips content already in the generation. Runs in the caller's transaction."""

    _columns = STAGE_COLUMNS
    _column_types = (
        "name text, record_type text, collection_data jsonb, description_llm text, content_hash text, identifiers text[]"
    )

    def __init__(
        self,
        raw: psycopg.Connection,
        target: Target,
        *,
        ingestion_id: uuid.UUID,
        source_type: str,
        source_name: str | None,
    ) -> None:
        self._cur = raw.cursor()
        self._table = f"_kariz_ingest_{uuid.uuid4().hex[:12]}"  # generated, never user text
        self._params = {
            "tenant": target.tenant_id,
            "collection": target.collection_id,
            "generation": target.generation,
            "source_type": source_type,
            "source_name": source_name,
            "ingestion": ingestion_id,
        }
        self.sent = 0
        self.staged = 0
        self.inserted = 0
        self._cur.execute(f"CREATE TEMP TABLE {self._table} ({self._column_types}) ON COMMIT DROP")
        self._insert = (
            _insert_records("s", keyed=False)
            + f"FROM {self._table} s ON CONFLICT (collection_id, generation, content_hash) DO NOTHING"
        )

    def write(self, rows: Sequence[Sequence[Any]]) -> None:
        """Stage one chunk (COPY into the temp table), write it into records, empty the temp table."""
        cur = self._cur
        with cur.copy(f"COPY {self._table} ({', '.join(self._columns)}) FROM STDIN") as copy:
            write_row = copy.write_row
            for row in rows:
                write_row(row)
        self.sent += len(rows)
        self.staged += cur.rowcount
        self._apply(rows)
        cur.execute(f"TRUNCATE {self._table}")

    def _apply(self, rows: Sequence[Sequence[Any]]) -> None:
        """Insert the staged chunk, skipping content already in the generation."""
        self._cur.execute(self._insert, self._params)
        self.inserted += self._cur.rowcount

    def close(self) -> None:
        self._cur.execute(f"DROP TABLE IF EXISTS {self._table}")
        self._cur.close()


def finish_generation(db: Executor, target: Target, inserted: int) -> bool:
    """Count new records into the generation (`inserted` may be negative: more archived than added);
    True when the embedding queue of the generation is long enough to call it backpressure."""
    if inserted:
        db.execute(
            sa.text(
                "UPDATE generations SET record_count = record_count + :n WHERE collection_id = :c AND number = :g"
            ),
            {"n": inserted, "c": target.collection_id, "g": target.generation},
        )
        db.execute(
            sa.text("UPDATE collections SET updated_at = now() WHERE id = :c"), {"c": target.collection_id}
        )
    pending = db.execute(
        sa.text(
            "SELECT count(*) FROM (SELECT 1 FROM records WHERE collection_id = :c AND generation = :g "
            "AND embedding_status IN ('pending', 'processing') LIMIT :cap) q"
        ),
        {"c": target.collection_id, "g": target.generation, "cap": BACKPRESSURE_PENDING + 1},
    ).scalar_one()
    return pending > BACKPRESSURE_PENDING


def log_ingestion(db: Executor, target: Target, *, ingestion_id: uuid.UUID, values: dict[str, Any]) -> None:
    """Keep the ingestion's summary in the `ingestions` table."""
    db.execute(
        sa.text(
            "INSERT INTO ingestions (id, tenant_id, collection_id, generation, source_type, source_name, filename, "
            "file_format, file_hash, status, submitted, accepted, rejected, dedup_skipped, errors, processing_time_ms) "
            "VALUES (:id, :t, :c, :g, :source_type, :source_name, :filename, :file_format, :file_hash, :status, "
            ":submitted, :accepted, :rejected, :dedup_skipped, CAST(:errors AS jsonb), :processing_time_ms)"
        ),
        {
            "id": ingestion_id,
            "t": target.tenant_id,
            "c": target.collection_id,
            "g": target.generation,
            **values,
            "errors": json.dumps(values["errors"]),
        },
    )


KEYED_STAGE_COLUMNS = (*STAGE_COLUMNS, "record_key", "seen_before")
_RECORD_VALUES = (
    "name = m.name, record_type = m.record_type, collection_data = m.collection_data, "
    "description_llm = m.description_llm, content_hash = m.content_hash, identifiers = m.identifiers, "
    "search_text = {tsv}, source_type = %(source_type)s, source_name = %(source_name)s, status = 'active', "
    "embedding_status = 'pending', embedding_error = NULL, embedding_attempts = 0, "
    "embedding_claimed_at = NULL, embedding_next_attempt_at = NULL, ingestion_id = %(ingestion)s, "
    "updated_at = clock_timestamp()"
)


class KeyedWriter(StagedWriter):
    """The write path of a keyed collection, per chunk (keys unique within a chunk):

    1. COPY into the staging table (with `record_key`, and `seen_before` for keys an earlier chunk of
       this ingestion already wrote);
    2. one statement probes `ux_records_key` once per staged row (a LEFT JOIN), then replaces the
       records whose key exists with other content, or is archived (new hash, search text,
       identifiers, `updated_at`, `embedding_status = 'pending'`; the record's own row by its primary
       key), and inserts the keys it did not find (`ON CONFLICT DO NOTHING`); unchanged rows are
       not touched and no search text is computed for them.

    When the generation held no keyed record at the start (a first load), a chunk without keys of
    earlier chunks is inserted directly: no key can exist yet, and `ON CONFLICT` guards the race.
    Counts: `inserted` (new keys and revived archived ones), `updated` (records this ingestion found
    with other content), `archived` (soft deletes, and mirror deletes in `archive_absent`).
    """

    _columns = KEYED_STAGE_COLUMNS
    _column_types = f"{StagedWriter._column_types}, record_key text, seen_before boolean"

    def __init__(self, raw: psycopg.Connection, target: Target, **kwargs: Any) -> None:
        super().__init__(raw, target, **kwargs)
        self.updated = 0
        self.revived = 0
        self.archived = 0
        cur = self._cur
        cur.execute(
            "SELECT EXISTS (SELECT 1 FROM records WHERE collection_id = %(collection)s "
            "AND generation = %(generation)s AND record_key IS NOT NULL)",
            self._params,
        )
        self.had_keys = bool(cur.fetchone()[0])
        self._insert_new = _insert_records("s", keyed=True) + f"FROM {self._table} s ON CONFLICT DO NOTHING"
        # one probe of ux_records_key per staged row; `m` is materialised once for both writes
        self._upsert = (
            "WITH m AS MATERIALIZED (SELECT s.*, r.id AS rid, r.content_hash AS old_hash, "
            "  r.status <> 'active' AS revived, r.ingestion_id IS DISTINCT FROM %(ingestion)s AS fresh "
            f"  FROM {self._table} s LEFT JOIN records r ON r.collection_id = %(collection)s "
            "  AND r.generation = %(generation)s AND r.record_key = s.record_key), "
            f"u AS (UPDATE records r SET {_RECORD_VALUES.format(tsv=search_text_sql('m'))} "
            "  FROM m WHERE m.rid IS NOT NULL AND r.id = m.rid AND (m.old_hash <> m.content_hash OR m.revived) "
            "  RETURNING m.fresh, m.revived), "
            f"i AS ({_insert_records('m', keyed=True)} FROM m WHERE m.rid IS NULL "
            "  ON CONFLICT DO NOTHING RETURNING 1) "
            "SELECT (SELECT count(*) FROM u WHERE fresh AND NOT revived), "
            "  (SELECT count(*) FROM u WHERE fresh AND revived), (SELECT count(*) FROM i)"
        )

    def _apply(self, rows: Sequence[Sequence[Any]]) -> None:
        """Rows end with record_key, seen_before: update changed keys, add new ones (a first load
        without keys of earlier chunks inserts directly)."""
        cur = self._cur
        if self.had_keys or any(row[-1] for row in rows):
            cur.execute(self._upsert, self._params)
            updated, revived, inserted = cur.fetchone()
            self.updated += updated
            self.revived += revived
            self.inserted += inserted
        else:
            cur.execute(self._insert_new, self._params)
            self.inserted += cur.rowcount

    def archive(self, keys: Sequence[str]) -> None:
        """Archive the active records of these keys (soft deletes); their vectors are removed by the
        embedding pipeline, which the `pending` status hands them to."""
        if not keys:
            return
        self._cur.execute(
            f"UPDATE records SET {_ARCHIVE} WHERE collection_id = %(collection)s AND generation = %(generation)s "
            "AND status = 'active' AND record_key = ANY(%(keys)s)",
            {**self._params, "keys": list(keys)},
        )
        self.archived += self._cur.rowcount


_ARCHIVE = (
    "status = 'archived', embedding_status = 'pending', embedding_claimed_at = NULL, "
    "embedding_next_attempt_at = NULL, embedding_error = NULL, updated_at = clock_timestamp()"
)


def archive_absent(raw: psycopg.Connection, target: Target, keys: Iterable[str]) -> int:
    """Mirror deletes: archive the generation's active records whose key is not in `keys` (records
    without a key too: a mirror names every record the collection should hold). Returns how many."""
    table = f"_kariz_keys_{uuid.uuid4().hex[:12]}"
    with raw.cursor() as cur:
        cur.execute(f"CREATE TEMP TABLE {table} (record_key text PRIMARY KEY) ON COMMIT DROP")
        with cur.copy(f"COPY {table} (record_key) FROM STDIN") as copy:
            for key in keys:
                copy.write_row((key,))
        cur.execute(f"ANALYZE {table}")
        cur.execute(
            f"UPDATE records r SET {_ARCHIVE} WHERE r.collection_id = %(c)s AND r.generation = %(g)s "
            "AND r.status = 'active' AND (r.record_key IS NULL OR NOT EXISTS "
            f"(SELECT 1 FROM {table} k WHERE k.record_key = r.record_key))",
            {"c": target.collection_id, "g": target.generation},
        )
        archived = cur.rowcount
        cur.execute(f"DROP TABLE {table}")
    return archived
