"""documents: the per-account file vault, the RAG store (chunks, operations, audit), account state,
the asset-manager password and durable sign-in attempt counts

Revision ID: 0014_docs
Revises: 0013_identity
Create Date: 2026-12-02 04:10:00

- `files`: one row per stored file of an account (bytes live in the FileStore under `storage_key`,
  which is generated, never built from the file name); unique per (tenant, account, sha256), so the
  same bytes uploaded twice are one file.
- `file_chunks`: the text of a synced file in pieces with a stored `english` tsvector (GIN), the
  full-text leg of retrieval; vectors sit in the vector index under the same ids.
- `store_vector_cleanup`: vector ids that may no longer have a chunk (written in the same
  transaction that drops chunks, and before vectors of a new sync are written), so a run killed at
  any point leaves nothing the next run does not remove.
- `store_operations` and `store_audit_events`: sync/refresh operations (progress) and the audit trail.
- `asset_credentials` and `auth_attempts`: the Argon2id hash of a tenant's asset-manager password and
  the attempts counted for its rate limit (in PostgreSQL, so limits hold across processes).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0014_docs"
down_revision = "0013_identity"
branch_labels = None
depends_on = None

GIB = 1024 * 1024 * 1024


def _tenant() -> sa.Column:
    return sa.Column("tenant_id", sa.Uuid, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False)


def _now(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def upgrade() -> None:
    op.add_column("tenants", sa.Column("storage_limit_bytes", sa.BigInteger, server_default=str(GIB), nullable=False))
    op.add_column("accounts", sa.Column("disabled", sa.Boolean, server_default=sa.false(), nullable=False))

    op.create_table(
        "files",
        sa.Column("id", sa.Uuid, primary_key=True),
        _tenant(),
        sa.Column("account_id", sa.Uuid, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("storage_key", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), server_default="uploaded", nullable=False),
        sa.Column("in_store", sa.Boolean, server_default=sa.false(), nullable=False),
        sa.Column("excluded", sa.Boolean, server_default=sa.false(), nullable=False),
        sa.Column("title", sa.String(500)),
        sa.Column("pages", sa.Integer),
        sa.Column("chunk_count", sa.Integer, server_default="0", nullable=False),
        sa.Column("synced_sha256", sa.String(64)),
        sa.Column("synced_at", sa.DateTime(timezone=True)),
        sa.Column("error", sa.Text),
        _now("created_at"),
        _now("updated_at"),
        sa.UniqueConstraint("tenant_id", "account_id", "sha256", name="uq_files_tenant_id_account_id_sha256"),
    )
    op.create_index("ix_files_account", "files", ["tenant_id", "account_id", "created_at"])
    op.create_index("ix_files_store", "files", ["tenant_id", "status"], postgresql_where=sa.text("in_store"))

    op.create_table(
        "file_chunks",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("tenant_id", sa.Uuid, nullable=False),
        sa.Column("file_id", sa.Uuid, sa.ForeignKey("files.id", ondelete="CASCADE"), nullable=False),
        sa.Column("ordinal", sa.Integer, nullable=False),
        sa.Column("page", sa.Integer),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("tokens", sa.Integer, nullable=False),
        sa.Column("tsv", sa.dialects.postgresql.TSVECTOR,
                  sa.Computed("to_tsvector('english'::regconfig, text)", persisted=True)),
    )
    op.create_index("ix_file_chunks_file", "file_chunks", ["file_id", "ordinal"])
    op.create_index("ix_file_chunks_tenant", "file_chunks", ["tenant_id"])
    op.create_index("ix_file_chunks_tsv", "file_chunks", ["tsv"], postgresql_using="gin")

    op.create_table(
        "store_vector_cleanup",
        sa.Column("chunk_id", sa.Uuid, primary_key=True),
        sa.Column("tenant_id", sa.Uuid, nullable=False, index=True),
        _now("created_at"),
    )

    op.create_table(
        "store_operations",
        sa.Column("id", sa.Uuid, primary_key=True),
        _tenant(),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), server_default="in_progress", nullable=False),
        sa.Column("file_ids", ARRAY(sa.Uuid), nullable=False),
        sa.Column("total", sa.Integer, server_default="0", nullable=False),
        sa.Column("processed", sa.Integer, server_default="0", nullable=False),
        sa.Column("failed", sa.Integer, server_default="0", nullable=False),
        sa.Column("skipped", sa.Integer, server_default="0", nullable=False),
        sa.Column("chunks", sa.Integer, server_default="0", nullable=False),
        sa.Column("pages", sa.Integer, server_default="0", nullable=False),
        sa.Column("current_file_id", sa.Uuid),
        sa.Column("current_file_name", sa.String(255)),
        sa.Column("run_id", sa.String(64)),
        sa.Column("error", sa.Text),
        _now("created_at"),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_store_operations_tenant", "store_operations", ["tenant_id", "created_at"])
    op.create_index("ix_store_operations_queue", "store_operations", ["created_at"],
                    postgresql_where=sa.text("started_at IS NULL AND status = 'in_progress'"))

    op.create_table(
        "store_audit_events",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        _tenant(),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("asset_id", sa.Uuid),
        sa.Column("account_id", sa.Uuid),
        sa.Column("operation_id", sa.Uuid),
        sa.Column("details", JSONB, server_default=sa.text("'{}'::jsonb"), nullable=False),
        _now("at"),
    )
    op.create_index("ix_store_audit_tenant", "store_audit_events", ["tenant_id", "id"])
    op.create_index("ix_store_audit_asset", "store_audit_events", ["tenant_id", "asset_id", "id"])

    op.create_table(
        "asset_credentials",
        sa.Column("tenant_id", sa.Uuid, sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        _now("updated_at"),
    )
    op.create_table(
        "auth_attempts",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        _tenant(),
        sa.Column("kind", sa.String(32), nullable=False),
        _now("at"),
    )
    op.create_index("ix_auth_attempts_window", "auth_attempts", ["tenant_id", "kind", "at"])


def downgrade() -> None:
    for table in ("auth_attempts", "asset_credentials", "store_audit_events", "store_operations",
                  "store_vector_cleanup", "file_chunks", "files"):
        op.drop_table(table)
    op.drop_column("accounts", "disabled")
    op.drop_column("tenants", "storage_limit_bytes")
