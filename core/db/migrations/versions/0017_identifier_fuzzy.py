"""search: a trigram index over a record's identifiers (fuzzy fallback for part numbers and SKUs)

Revision ID: 0017_identifier_fuzzy
Revises: 0016_chat
Create Date: 2026-12-02 14:40:00

`kariz_identifier_text(identifiers)` is a record's exact identifiers (normalised, see
core/records/identifiers.py) joined by spaces, without the leading parts (`SSM8*`), which full
text already serves. A trigram GIN over it, on active records that have identifiers, gives the
fuzzy fallback its candidates when an identifier query matched nothing: `query <% text` finds a
record one of whose identifiers is close to the query (a typo, or a part of it), and search then
confirms each candidate against the identifiers one by one.
"""

from __future__ import annotations

from alembic import op

revision = "0017_identifier_fuzzy"
down_revision = "0016_chat"
branch_labels = None
depends_on = None

# array_to_string is STABLE in general (element output functions may depend on settings); for text
# elements it is not, so the wrapper is declared IMMUTABLE and an expression index may call it
IDENTIFIER_TEXT = r"""
CREATE OR REPLACE FUNCTION kariz_identifier_text(p_identifiers text[]) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
    SELECT array_to_string(ARRAY(SELECT i FROM unnest(p_identifiers) i WHERE right(i, 1) <> '*'), ' ')
$$
"""


def upgrade() -> None:
    op.execute(IDENTIFIER_TEXT)
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_records_identifier_trgm ON records "
        "USING gin (kariz_identifier_text(identifiers) gin_trgm_ops) "
        "WHERE status = 'active' AND identifiers <> '{}'"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_records_identifier_trgm")
    op.execute("DROP FUNCTION IF EXISTS kariz_identifier_text(text[])")
