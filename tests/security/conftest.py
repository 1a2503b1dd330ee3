"""The attack suites use the same real app and PostgreSQL fixtures as the integration suites."""

from __future__ import annotations

from tests.integration.conftest import *  # noqa: F403 - re-export the API fixtures (client, tenant_key, ...)
