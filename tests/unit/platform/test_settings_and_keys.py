from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from api.auth.principal import Principal
from core.errors import Unauthenticated
from core.security.api_keys import generate_key, hash_key, looks_like_key
from core.security.tokens import issue_token, verify_token
from core.settings import Settings, SettingsError


def test_production_refuses_missing_secrets_and_embedded_database(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings(env="production", data_dir=tmp_path).check_production()
    message = str(refused.value)
    assert "KARIZ_JWT_SECRET" in message and "CONNECTOR_ENCRYPTION_KEY" in message and "DATABASE_URL" in message
    Settings(env="production", data_dir=tmp_path, jwt_secret="s", connector_encryption_key="k",
             database_url="postgresql://db/kariz").check_production()


def test_development_runs_on_embedded_defaults(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    settings.check_production()
    assert settings.uses_embedded_database
    assert settings.landing_dir == tmp_path.resolve() / "landing"
    assert settings.effective_vector_backend == "pgvector"
    assert Settings(data_dir=tmp_path, qdrant_url=":memory:").effective_vector_backend == "qdrant"


def test_plain_and_prefixed_env_names_are_both_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://a/b")
    monkeypatch.setenv("CONNECTOR_ENCRYPTION_KEY", "k1, k2")
    monkeypatch.setenv("KARIZ_API_PORT", "8100")
    settings = Settings(data_dir=tmp_path)
    assert settings.database_url == "postgresql://a/b"
    assert settings.encryption_keys == ["k1", "k2"]
    assert settings.api_port == 8100


def test_keys_are_random_prefixed_and_hashed() -> None:
    a, b = generate_key(), generate_key()
    assert a != b and a.startswith("sk_live_") and len(a) > 40
    assert looks_like_key(a) and not looks_like_key("sk_short") and not looks_like_key("hello")
    assert hash_key(a) == hash_key(a) and hash_key(a) != hash_key(b) and a not in hash_key(a)


def test_admin_scope_covers_tenant_scopes_but_not_system() -> None:
    admin = Principal(tenant_id=uuid.uuid4(), scopes=frozenset({"admin"}))
    reader = Principal(tenant_id=uuid.uuid4(), scopes=frozenset({"tenant:read"}))
    operator = Principal(tenant_id=uuid.uuid4(), scopes=frozenset({"system:admin"}))
    assert admin.allows("tenant:write") and admin.allows("chat:delete") and not admin.allows("system:admin")
    assert reader.allows("tenant:read") and not reader.allows("tenant:write") and not reader.allows("admin")
    assert operator.allows("admin") and operator.allows("system:admin") and operator.is_system


def test_tokens_round_trip_and_reject_tampering_and_expiry(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, jwt_secret="secret")
    tenant = uuid.uuid4()
    token, _ = issue_token(settings, tenant_id=tenant, subject="k1", scopes=["tenant:read"], session_id=uuid.uuid4(), kind="key")
    claims = verify_token(settings, token)
    assert claims.tenant_id == tenant and claims.scopes == ("tenant:read",)
    with pytest.raises(Unauthenticated):
        verify_token(Settings(data_dir=tmp_path, jwt_secret="other"), token)
    expired, _ = issue_token(settings, tenant_id=tenant, subject="k1", scopes=[], session_id=uuid.uuid4(), kind="key", ttl_seconds=-10)
    with pytest.raises(Unauthenticated, match="expired"):
        verify_token(settings, expired)


def test_development_jwt_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    token, _ = issue_token(settings, tenant_id=uuid.uuid4(), subject="s", scopes=[], session_id=uuid.uuid4(), kind="key")
    secret_file = tmp_path / "secrets" / "jwt_secret"
    assert secret_file.exists() and oct(secret_file.stat().st_mode)[-3:] == "600"
    assert verify_token(Settings(data_dir=tmp_path), token).subject == "s"
