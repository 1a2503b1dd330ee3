"""`kariz connectors rotate-keys`: every stored config re-encrypted with the first key, counts only printed."""

from __future__ import annotations

import uuid

import httpx
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from pydantic import SecretStr
from sqlalchemy.orm import Session

import core.settings
from core.db.models import Connector
from core.pulls.keys import rotate_connector_keys
from core.security.encryption import CredentialBox, CredentialsUnreadable, generate_key
from core.settings import Settings
from kariz.cli_connectors import command
from tests.integration.conftest import register_tenant
from tests.integration.pulls.flows import register

pytestmark = pytest.mark.integration


def _tokens(engine: sa.Engine) -> dict[uuid.UUID, str]:
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(Connector.id, Connector.config_encrypted)).all())


def _run_with_keys(monkeypatch: pytest.MonkeyPatch, settings: Settings, keys: str) -> str:
    with_keys = settings.model_copy(update={"connector_encryption_key": SecretStr(keys)})
    monkeypatch.setattr(core.settings, "get_settings", lambda: with_keys)
    result = CliRunner().invoke(command, ["rotate-keys"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


async def test_rotate_keys_re_encrypts_every_config_with_the_new_first_key(
    live_client: httpx.AsyncClient,
    sync_engine: sa.Engine,
    app_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    owner = await register_tenant(live_client, "rotate")
    secret = "pw-rotate-" + uuid.uuid4().hex[:8]
    created = await register(
        live_client,
        owner,
        name="rotated",
        connector_type="mysql",
        vertical="v",
        entity_type="x",
        connection_config={"host": "db.internal", "user": "app", "password": secret, "database": "shop"},
        query="SELECT name FROM t",
    )
    old_key = app_settings.connector_encryption_key.get_secret_value()
    new_key = generate_key()
    before = _tokens(sync_engine)
    try:
        output = _run_with_keys(monkeypatch, app_settings, f"{new_key},{old_key}")
        after = _tokens(sync_engine)
        assert f"re-encrypted with the first key: {len(before)}" in output and "unreadable: 0" in output
        assert secret not in output and new_key not in output and old_key not in output
        only_new = CredentialBox([new_key])
        assert only_new.decrypt(after[uuid.UUID(created["id"])])["password"] == secret
        with pytest.raises(CredentialsUnreadable):
            CredentialBox([old_key]).decrypt(after[uuid.UUID(created["id"])])
        assert all(
            only_new.decrypt(t) == CredentialBox([old_key]).decrypt(before[i]) for i, t in after.items()
        )
    finally:
        # every other test's connectors are encrypted with the test key: put them back under it
        _run_with_keys(monkeypatch, app_settings, f"{old_key},{new_key}")
    assert (
        CredentialBox([old_key]).decrypt(_tokens(sync_engine)[uuid.UUID(created["id"])])["password"] == secret
    )


def test_unreadable_configs_are_reported_and_left_alone(db: Session, app_settings: Settings) -> None:
    from core.tenants import service

    tenant = service.create_tenant(db, f"rotate-bad-{uuid.uuid4().hex[:6]}")
    foreign = CredentialBox([generate_key()]).encrypt({"dsn": "postgresql://u:pw@h/d"})
    orphan = Connector(
        id=uuid.uuid4(),
        tenant_id=tenant.id,
        name="lost key",
        connector_type="postgresql",
        collection_name="v",
        entity_type="x",
        config_encrypted=foreign,
        query="SELECT 1",
    )
    db.add(orphan)
    db.flush()
    box = CredentialBox.from_settings(app_settings)
    report = rotate_connector_keys(db, box)
    assert orphan.id in report.unreadable
    assert report.rotated == report.total - len(report.unreadable)
    assert db.get(Connector, orphan.id).config_encrypted == foreign
