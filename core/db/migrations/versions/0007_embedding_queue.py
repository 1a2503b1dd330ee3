"""embedding queue: when a record was claimed for embedding, and when it may be retried

Revision ID: 0007_embedding_queue
Revises: 0001
Create Date: 2026-11-23 09:00:00

The embedding pipeline claims pending records (`embedding_status = 'processing'`) and stamps
`embedding_claimed_at`, so a run that dies leaves rows another run reclaims after a timeout instead
of rows stuck in processing forever. A transient failure puts a record back to pending with
`embedding_next_attempt_at` in the future (exponential backoff). Both are NULL otherwise.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_embedding_queue"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("records", sa.Column("embedding_claimed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("records", sa.Column("embedding_next_attempt_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("records", "embedding_next_attempt_at")
    op.drop_column("records", "embedding_claimed_at")
