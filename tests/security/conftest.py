"""The attack suites use the same real app and PostgreSQL fixtures as the integration suites."""

from __future__ import annotations

from tests.integration.conftest import *  # noqa: F403 - re-export the API fixtures (client, tenant_key, ...)
from tests.integration.conftest import _use_test_settings  # noqa: E402, F401 - autouse; `*` skips `_` names
