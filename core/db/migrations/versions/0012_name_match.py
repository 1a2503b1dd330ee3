"""search: a record's name key (exact-name and name-prefix matches, fuzzy fallback)

Revision ID: 0012_name_match
Revises: 0011_sec_auth_sessions
Create Date: 2026-12-02 04:10:00

`kariz_name_key(name)` is the name folded for matching: lower case, accents removed, everything but
letters and digits dropped, so `Py-YAML`, `pyyaml` and `py yaml` meet on `pyyaml`. Search computes
the query's key with the same function, so the two can never disagree. Two partial indexes over the
active records serve it: a btree in byte order (equality, and prefixes as a range, which stays an
index range in generic plans of prepared statements where `LIKE` with a bound pattern would not),
scoped by collection and generation; and a trigram GIN for the one-typo fallback when nothing
matched, confirmed by `levenshtein_less_equal` (fuzzystrmatch).
"""

from __future__ import annotations

from alembic import op

revision = "0012_name_match"
down_revision = "0011_sec_auth_sessions"
branch_labels = None
depends_on = None

# unaccent() is STABLE (its dictionary could change); the two-argument form with a fixed dictionary
# is what every index over it uses, declared IMMUTABLE here so an expression index may call it.
# Servers without the unaccent extension get the same key without accent folding.
NAME_KEY_WITH_UNACCENT = r"""
CREATE OR REPLACE FUNCTION kariz_name_key(p_name text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
    SELECT regexp_replace(lower(public.unaccent('public.unaccent'::regdictionary, p_name)), '[^[:alnum:]]+', '', 'g')
$$
"""
NAME_KEY_PLAIN = r"""
CREATE OR REPLACE FUNCTION kariz_name_key(p_name text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
    SELECT regexp_replace(lower(p_name), '[^[:alnum:]]+', '', 'g')
$$
"""


def upgrade() -> None:
    op.execute(
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'unaccent') "
        "THEN CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public; END IF; END $$"
    )
    op.execute("CREATE EXTENSION IF NOT EXISTS fuzzystrmatch")
    has_unaccent = op.get_bind().exec_driver_sql(
        "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'unaccent')"
    ).scalar()
    op.execute(NAME_KEY_WITH_UNACCENT if has_unaccent else NAME_KEY_PLAIN)
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_records_name_key ON records "
        "(collection_id, generation, (kariz_name_key(name) COLLATE \"C\")) WHERE status = 'active'"
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_records_name_trgm ON records "
        "USING gin (kariz_name_key(name) gin_trgm_ops) WHERE status = 'active'"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_records_name_trgm")
    op.execute("DROP INDEX IF EXISTS ix_records_name_key")
    op.execute("DROP FUNCTION IF EXISTS kariz_name_key(text)")
