"""connectors: the outcome of the last pull (status and a credential-free error)

Revision ID: 0006_connectors
Revises: 0001
Create Date: 2026-11-23 09:00:00

`GET /connectors` shows whether each connector's last pull worked and, if not, why, without
looking through work requests. The error text never holds credentials (connector errors are
scrubbed before they are stored).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_connectors"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("connectors", sa.Column("last_status", sa.String(length=16), nullable=True))
    op.add_column("connectors", sa.Column("last_error", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("connectors", "last_error")
    op.drop_column("connectors", "last_status")
