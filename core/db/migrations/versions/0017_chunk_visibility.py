"""file_chunks carry their file's account and whether they may be retrieved, so the store query
matches and ranks chunks without joining `files`

Revision ID: 0017_chunk_visibility
Revises: 0016_chat
Create Date: 2026-12-02 14:30:00

- `file_chunks.account_id` (the file's account) and `file_chunks.retrievable` (the file is in the
  store and not excluded). Triggers keep them equal to the file's columns whatever writes them: a
  chunk takes its file's values when inserted, and updating a file's `in_store`, `excluded` or
  `account_id` updates its chunks in the same transaction, so excluding or including a file acts at
  once and no write path can leave an excluded file retrievable.
- The full-text index becomes a GIN on (tenant_id, tsv) over retrievable chunks only (btree_gin
  keys the tenant inside the GIN, so one tenant's common words never make another tenant's query
  walk their matches), with `fastupdate` off: chunks are written at embedding speed, and the
  pending list fastupdate keeps would make every query scan it until the next vacuum.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_chunk_visibility"
down_revision = "0016_chat"
branch_labels = None
depends_on = None

CHUNK_FROM_FILE = """
CREATE OR REPLACE FUNCTION kariz_chunk_from_file() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT f.account_id, f.in_store AND NOT f.excluded INTO NEW.account_id, NEW.retrievable
    FROM files f WHERE f.id = NEW.file_id;
    RETURN NEW;
END $$
"""

FILE_TO_CHUNKS = """
CREATE OR REPLACE FUNCTION kariz_file_to_chunks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE file_chunks SET account_id = NEW.account_id, retrievable = NEW.in_store AND NOT NEW.excluded
    WHERE file_id = NEW.id;
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    op.add_column("file_chunks", sa.Column("account_id", sa.Uuid))
    op.add_column("file_chunks", sa.Column("retrievable", sa.Boolean, server_default=sa.false(), nullable=False))
    op.execute(
        "UPDATE file_chunks c SET account_id = f.account_id, retrievable = f.in_store AND NOT f.excluded "
        "FROM files f WHERE f.id = c.file_id"
    )
    op.alter_column("file_chunks", "account_id", nullable=False)
    op.execute(CHUNK_FROM_FILE)
    op.execute(
        "CREATE TRIGGER file_chunks_from_file BEFORE INSERT OR UPDATE OF file_id ON file_chunks "
        "FOR EACH ROW EXECUTE FUNCTION kariz_chunk_from_file()"
    )
    op.execute(FILE_TO_CHUNKS)
    op.execute(
        "CREATE TRIGGER files_to_chunks AFTER UPDATE OF in_store, excluded, account_id ON files FOR EACH ROW "
        "WHEN (OLD.in_store IS DISTINCT FROM NEW.in_store OR OLD.excluded IS DISTINCT FROM NEW.excluded "
        "OR OLD.account_id IS DISTINCT FROM NEW.account_id) EXECUTE FUNCTION kariz_file_to_chunks()"
    )
    op.drop_index("ix_file_chunks_tsv", table_name="file_chunks")
    op.execute(
        "CREATE INDEX ix_file_chunks_search ON file_chunks USING gin (tenant_id, tsv) "
        "WITH (fastupdate = off) WHERE retrievable"
    )


def downgrade() -> None:
    op.drop_index("ix_file_chunks_search", table_name="file_chunks")
    op.create_index("ix_file_chunks_tsv", "file_chunks", ["tsv"], postgresql_using="gin")
    op.execute("DROP TRIGGER files_to_chunks ON files")
    op.execute("DROP TRIGGER file_chunks_from_file ON file_chunks")
    op.execute("DROP FUNCTION kariz_file_to_chunks()")
    op.execute("DROP FUNCTION kariz_chunk_from_file()")
    op.drop_column("file_chunks", "retrievable")
    op.drop_column("file_chunks", "account_id")
