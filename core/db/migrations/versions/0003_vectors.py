"""pgvector index: registry of vector collections, aliases, and the schema holding points tables

Revision ID: 0003_vectors
Revises: 0001
Create Date: 2026-11-23 06:40:00

Each vector collection (one per tenant, collection and generation) gets its own points table
`kariz_vectors.<table_name>` with an HNSW index, created at run time by core/vectors/pgvector.py;
this migration creates the registry and the alias table that searches resolve through.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_vectors"
down_revision = "0001"
branch_labels = None
depends_on = None

SCHEMA = "kariz_vectors"


def upgrade() -> None:
    op.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    op.create_table(
        "vector_collections",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("dimension", sa.Integer(), nullable=False),
        sa.Column("table_name", sa.String(length=63), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_vector_collections")),
        sa.UniqueConstraint("table_name", name=op.f("uq_vector_collections_table_name")),
    )
    op.create_table(
        "vector_aliases",
        sa.Column("alias", sa.String(length=200), nullable=False),
        sa.Column("collection_name", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_name"],
            ["vector_collections.name"],
            name=op.f("fk_vector_aliases_collection_name_vector_collections"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("alias", name=op.f("pk_vector_aliases")),
    )
    op.create_index(
        op.f("ix_vector_aliases_collection_name"), "vector_aliases", ["collection_name"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_vector_aliases_collection_name"), table_name="vector_aliases")
    op.drop_table("vector_aliases")
    op.drop_table("vector_collections")
    op.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
