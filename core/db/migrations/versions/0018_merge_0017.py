"""merge: 0017_chunk_visibility and 0017_identifier_fuzzy both followed 0016_chat

Revision ID: 0018_merge_0017
Revises: 0017_chunk_visibility, 0017_identifier_fuzzy
Create Date: 2026-12-02 15:40:00

Both landed on main the same afternoon; this revision joins the two heads so `upgrade head` has
one target, and a database at either one moves on from where it is.
"""

from __future__ import annotations

revision = "0018_merge_0017"
down_revision = ("0017_chunk_visibility", "0017_identifier_fuzzy")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
