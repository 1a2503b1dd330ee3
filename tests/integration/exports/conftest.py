"""Fixtures for export tests."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from core.db.models import Tenant
from tests.integration.exports.export_seed import make_tenant


@pytest.fixture
def tenant(db: Session) -> Tenant:
    """A fresh tenant inside the test's rolled-back transaction."""
    return make_tenant(db)
