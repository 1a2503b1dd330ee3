"""generations: a partial index that finds a generation's failed embeddings without a scan

Revision ID: 0005_generations
Revises: 0001
Create Date: 2026-11-23 07:00:00

The blue-green swap refuses a staging generation with pending, processing or failed embeddings.
Pending and processing are found through `ix_records_embedding_queue`; this index does the same for
failed ones, so the readiness check costs the same at 10k and at 1M records.
"""

from __future__ import annotations

from alembic import op

revision = "0005_generations"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_records_embedding_failed ON records (collection_id, generation) "
        "WHERE embedding_status = 'failed'"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_records_embedding_failed")
