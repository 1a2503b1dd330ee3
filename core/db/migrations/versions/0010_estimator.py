"""estimator: stored estimates per tenant, and the photos of those made with keepImages

Revision ID: 0010_estimator
Revises: 0008_record_write_path
Create Date: 2026-12-02 04:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0010_estimator"
down_revision = "0008_record_write_path"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "estimates",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("tenant_id", sa.Uuid, sa.ForeignKey("tenants.id", ondelete="CASCADE",
                                                      name="fk_estimates_tenant_id_tenants"), nullable=False),
        sa.Column("provider", sa.String(40), nullable=False),
        sa.Column("image_count", sa.SmallInteger, nullable=False),
        sa.Column("notes", sa.Text),
        sa.Column("images_kept", sa.Boolean, server_default=sa.false(), nullable=False),
        sa.Column("result", JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ix_estimates_tenant_created", "estimates", ["tenant_id", "created_at"])
    op.create_table(
        "estimate_images",
        sa.Column("estimate_id", sa.Uuid, sa.ForeignKey("estimates.id", ondelete="CASCADE",
                                                        name="fk_estimate_images_estimate_id_estimates"),
                  primary_key=True),
        sa.Column("position", sa.SmallInteger, primary_key=True),
        sa.Column("tenant_id", sa.Uuid, sa.ForeignKey("tenants.id", ondelete="CASCADE",
                                                      name="fk_estimate_images_tenant_id_tenants"), nullable=False),
        sa.Column("content_type", sa.String(40), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_estimate_images_tenant_id", "estimate_images", ["tenant_id"])


def downgrade() -> None:
    op.drop_table("estimate_images")
    op.drop_table("estimates")
