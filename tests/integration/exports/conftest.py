"""Fixtures for export tests."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from core.db.models import Tenant
from core.settings import Settings
from tests.integration.exports.export_seed import make_tenant


@pytest.fixture
def tenant(db: Session) -> Tenant:
    """A fresh tenant inside the test's rolled-back transaction."""
    return make_tenant(db)


@pytest.fixture(autouse=True)
def _dagster_runs_use_test_settings(app_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Dagster's settings resource bound `get_settings` at import: point it at the test settings too,
    so runs write export files where the API under test reads them."""
    import orchestration.resources

    monkeypatch.setattr(orchestration.resources, "get_settings", lambda: app_settings)
