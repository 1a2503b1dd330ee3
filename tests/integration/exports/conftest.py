"""Fixtures for export tests."""

from __future__ import annotations

import pytest
from export_seed import make_tenant
from sqlalchemy.orm import Session

from core.db.models import Tenant


@pytest.fixture
def tenant(db: Session) -> Tenant:
    """A fresh tenant inside the test's rolled-back transaction."""
    return make_tenant(db)
