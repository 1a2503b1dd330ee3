"""The operators' command line against the real database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from core.db.models import ApiKey
from core.security.api_keys import hash_key
from core.settings import get_settings, override_settings
from kariz.cli import main


@pytest.fixture
def cli_env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("KARIZ_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KARIZ_API_PORT", "1")  # nothing listens there: status reports it down
    override_settings(None)  # the CLI reads its settings from the environment set here
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def invoke(*args: str) -> dict:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.output) if result.output.lstrip().startswith("{") else {"output": result.output}


def test_tenant_and_key_commands_issue_working_hashed_keys(cli_env: None, sync_engine: sa.Engine) -> None:
    created = invoke("tenant", "create", "cli-tenant", "--email", "ops@example.com")
    assert created["api_key"].startswith("sk_live_") and "admin" in created["scopes"]
    issued = invoke("key", "create", "--tenant", "cli-tenant", "--scope", "tenant:read", "--expires-days", "7")
    assert issued["scopes"] == ["tenant:read"] and issued["expires_at"]
    with sync_engine.connect() as conn:
        stored = conn.execute(sa.select(ApiKey.key_hash, ApiKey.scopes).where(ApiKey.id == issued["key_id"])).one()
    assert stored.key_hash == hash_key(issued["api_key"]) and issued["api_key"] not in stored.key_hash
    invoke("key", "revoke", "--tenant", created["tenant_id"], issued["key_id"])
    with sync_engine.connect() as conn:
        revoked = conn.execute(sa.select(ApiKey.revoked_at).where(ApiKey.id == issued["key_id"])).scalar_one()
    assert revoked is not None


def test_unknown_scope_and_duplicate_tenant_fail_clearly(cli_env: None) -> None:
    from kariz.cli import run

    invoke("tenant", "create", "dup-tenant")
    for args in (["tenant", "create", "dup-tenant"], ["key", "create", "--tenant", "dup-tenant", "--scope", "root"]):
        with pytest.raises(SystemExit) as exited:
            import sys

            sys.argv = ["kariz", *args]
            run()
        assert exited.value.code == 2


def test_status_reports_schema_counts_and_services(cli_env: None) -> None:
    report = invoke("status")
    assert report["embedded_database"] is False
    assert report["schema_revisions"]
    assert report["tenants"] >= 0 and report["queued_requests"] >= 0
    assert report["api"] == "down"
    assert "***" in report["database"] or "@" not in report["database"].split("//")[1].split("/")[0]


def test_migrate_is_idempotent(cli_env: None) -> None:
    assert "migrated" in invoke("migrate")["output"]
