"""The field catalog of a collection generation: every `collection_data` key and the kinds of its values.

Search validates filter and sort fields against it and types filter values by it.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models.base import Base


class CollectionField(Base):
    __tablename__ = "collection_fields"

    collection_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("collections.id", ondelete="CASCADE"), primary_key=True
    )
    generation: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    field: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    # number, boolean, date, string, object, array, null
    kind: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
