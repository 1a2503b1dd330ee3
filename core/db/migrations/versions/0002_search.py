"""search: the record tsvector function, ingestion log, field catalog, search versions

Revision ID: 0002_search
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002_search"
down_revision = "0001"
branch_labels = None
depends_on = None

# How a record becomes searchable (weights: name A; record type and identifiers B; data values and
# the description C). Ingestion and reindexing both call it; change it only with a new migration
# followed by a reindex.
RECORD_TSV_FUNCTION = """
CREATE OR REPLACE FUNCTION kariz_record_tsv(
    p_name text, p_record_type text, p_description text, p_data jsonb, p_identifiers text[]
) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT setweight(to_tsvector('english'::regconfig, coalesce(p_name, '')), 'A')
        || setweight(to_tsvector('simple'::regconfig,
               coalesce(p_record_type, '') || ' ' || array_to_string(coalesce(p_identifiers, '{}'), ' ')), 'B')
        || setweight(jsonb_to_tsvector('english'::regconfig, coalesce(p_data, '{}'::jsonb), '["string", "numeric"]'), 'C')
        || setweight(to_tsvector('english'::regconfig, coalesce(p_description, '')), 'C')
$$
"""


def upgrade() -> None:
    op.execute(RECORD_TSV_FUNCTION)
    op.create_table(
        "ingestions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("collection_id", sa.Uuid(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("source_type", sa.String(length=40), nullable=False),
        sa.Column("source_name", sa.String(length=200), nullable=True),
        sa.Column("filename", sa.String(length=500), nullable=True),
        sa.Column("file_format", sa.String(length=16), nullable=True),
        sa.Column("file_hash", sa.String(length=71), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("submitted", sa.BigInteger(), nullable=False),
        sa.Column("accepted", sa.BigInteger(), nullable=False),
        sa.Column("rejected", sa.BigInteger(), nullable=False),
        sa.Column("dedup_skipped", sa.BigInteger(), nullable=False),
        sa.Column(
            "errors",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("processing_time_ms", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["collections.id"],
            name=op.f("fk_ingestions_collection_id_collections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_ingestions_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingestions")),
    )
    op.create_index(op.f("ix_ingestions_tenant_id"), "ingestions", ["tenant_id"], unique=False)
    op.create_index(
        "ix_ingestions_collection_created", "ingestions", ["collection_id", "created_at"], unique=False
    )
    op.create_table(
        "collection_fields",
        sa.Column("collection_id", sa.Uuid(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("field", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["collections.id"],
            name=op.f("fk_collection_fields_collection_id_collections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "collection_id", "generation", "field", "kind", name=op.f("pk_collection_fields")
        ),
    )
    op.create_table(
        "search_versions",
        sa.Column("collection_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["collections.id"],
            name=op.f("fk_search_versions_collection_id_collections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("collection_id", name=op.f("pk_search_versions")),
    )


def downgrade() -> None:
    op.drop_table("search_versions")
    op.drop_table("collection_fields")
    op.drop_index("ix_ingestions_collection_created", table_name="ingestions")
    op.drop_index(op.f("ix_ingestions_tenant_id"), table_name="ingestions")
    op.drop_table("ingestions")
    op.execute("DROP FUNCTION IF EXISTS kariz_record_tsv(text, text, text, jsonb, text[])")
