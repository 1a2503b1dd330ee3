"""usage counters in PostgreSQL: daily and billing-period requests and tokens per tenant

Revision ID: 0015_input_usage
Revises: 0014_docs
Create Date: 2026-12-02 04:45:00

One row per tenant and window (`d:20261202` a UTC day, `p:2026-12-01` a billing period's requests,
`t:2026-12-01` its tokens). API processes add their counts in batches with one
`INSERT ... ON CONFLICT DO UPDATE` (core/usage/counters.py), so quotas survive restarts without Redis.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0015_input_usage"
down_revision = "0014_docs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usage_counters",
        sa.Column("tenant_id", UUID(as_uuid=True), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
        sa.Column("window_key", sa.String(32), nullable=False),
        sa.Column("count", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("tenant_id", "window_key", name="pk_usage_counters"),
    )


def downgrade() -> None:
    op.drop_table("usage_counters")
