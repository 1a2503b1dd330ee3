"""record identity: a collection's record key, the key of each record, connector key/delete/mode

Revision ID: 0013_identity
Revises: 0012_name_match
Create Date: 2026-12-02 04:10:00

- `collections.record_key` (text[]): the field(s) that identify a record in its source, remembered
  once set (core/ingestion/keys.py); NULL = no key, records deduplicated by content hash as before.
- `records.record_key` (text): the record's key value in canonical text form, NULL for unkeyed records.
- `ux_records_key`: at most one record per key in a collection generation. Partial (`WHERE
  record_key IS NOT NULL`), so unkeyed collections pay nothing for it (measured: bench/ingest_keyed.py).
  It holds archived records too: a key that comes back revives its own record instead of colliding
  with the archived copy's content hash.
- `connectors.key_column`, `deleted_column`, `pull_mode` ('append' or 'mirror').
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0013_identity"
down_revision = "0012_name_match"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("collections", sa.Column("record_key", ARRAY(sa.Text), nullable=True))
    op.add_column("records", sa.Column("record_key", sa.Text, nullable=True))
    op.create_index(
        "ux_records_key",
        "records",
        ["collection_id", "generation", "record_key"],
        unique=True,
        postgresql_where=sa.text("record_key IS NOT NULL"),
    )
    op.add_column("connectors", sa.Column("key_column", sa.String(200), nullable=True))
    op.add_column("connectors", sa.Column("deleted_column", sa.String(200), nullable=True))
    op.add_column(
        "connectors", sa.Column("pull_mode", sa.String(16), nullable=False, server_default="append")
    )
    op.create_check_constraint(op.f("ck_connectors_pull_mode"), "connectors", "pull_mode IN ('append', 'mirror')")


def downgrade() -> None:
    op.drop_constraint(op.f("ck_connectors_pull_mode"), "connectors", type_="check")
    op.drop_column("connectors", "pull_mode")
    op.drop_column("connectors", "deleted_column")
    op.drop_column("connectors", "key_column")
    op.drop_index("ux_records_key", table_name="records")
    op.drop_column("records", "record_key")
    op.drop_column("collections", "record_key")
