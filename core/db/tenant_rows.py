"""Reading one row a tenant owns: a missing row and another tenant's answer the same `NotFound`, so
an id never tells a caller whether it exists under another tenant."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from core.errors import NotFound

M = TypeVar("M")


def tenant_row(session: Session, model: type[M], row_id: Any, tenant_id: uuid.UUID, what: str) -> M:
    """The row `row_id` of `model` (by primary key) when `tenant_id` owns it; else `NotFound`
    ("<what> not found")."""
    row = session.get(model, row_id)
    if row is None or row.tenant_id != tenant_id:  # type: ignore[attr-defined]
        raise NotFound(f"{what} not found")
    return row
