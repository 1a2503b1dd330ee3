"""The asset-manager password: every failed rule named, Argon2id only, 5 attempts per 15 minutes per
tenant (counted in PostgreSQL), never echoed or logged, and the password grant of POST /auth/token."""

from __future__ import annotations

import logging

import httpx
import pytest
import sqlalchemy as sa

from tests.integration.conftest import TenantKey, register_tenant

GOOD = "Tq7#vLp2!xR9mZ-harbour"


def _path(owner: TenantKey) -> str:
    return f"/api/v1/tenants/{owner.tenant_id}/asset-auth/password"


async def test_rules_are_named_and_a_strong_password_is_stored_as_argon2id(
    live_client: httpx.AsyncClient, sync_engine: sa.Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    owner = await register_tenant(live_client, "asset-pw")
    weak = await live_client.put(_path(owner), headers=owner.headers,
                                 json={"newPassword": "password", "confirmPassword": "passw0rd"})
    assert weak.status_code == 422
    rules = weak.json()["error"]["failedRules"]
    assert "at least one uppercase letter (A-Z)" in rules
    assert "at least one number (0-9)" in rules
    assert "at least one special character (!@#$%^&*)" in rules
    assert "confirmPassword must equal newPassword" in rules
    assert any(r.startswith("not weak or common") for r in rules)
    assert "at least 8 characters" not in rules
    short = await live_client.post(_path(owner), headers=owner.headers, json={"newPassword": "aA1!", "confirmPassword": "aA1!"})
    assert "at least 8 characters" in short.json()["error"]["failedRules"]
    long = await live_client.put(_path(owner), headers=owner.headers,
                                 json={"newPassword": "aA1!" * 40, "confirmPassword": "aA1!" * 40})
    assert "at most 128 characters" in long.json()["error"]["failedRules"]
    common = await live_client.put(_path(owner), headers=owner.headers,
                                   json={"newPassword": "Password1!", "confirmPassword": "Password1!"})
    assert common.status_code == 422 and common.json()["error"]["failedRules"][0].startswith("not weak")
    with sync_engine.begin() as conn:  # 15 minutes pass: the four attempts leave the window
        conn.execute(sa.text("UPDATE auth_attempts SET at = at - interval '16 minutes' WHERE tenant_id = :t"),
                     {"t": owner.tenant_id})

    ok = await live_client.put(_path(owner), headers=owner.headers, json={"newPassword": GOOD, "confirmPassword": GOOD})
    assert ok.status_code == 200, ok.text
    assert ok.json()["success"] is True and ok.json()["data"]["updatedAt"]
    assert GOOD not in ok.text and "passw0rd" not in weak.text
    with sync_engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT password_hash FROM asset_credentials WHERE tenant_id = :t"),
                              {"t": owner.tenant_id}).scalar_one()
    assert stored.startswith("$argon2id$") and GOOD not in stored
    assert GOOD not in caplog.text and "passw0rd" not in caplog.text

    # the password signs in: POST /auth/token with {tenantId, password} and no key
    token = await live_client.post("/api/v1/auth/token", json={"tenantId": owner.tenant_id, "password": GOOD})
    assert token.status_code == 201, token.text
    jwt = {"Authorization": f"Bearer {token.json()['data']['token']}"}
    assert (await live_client.get(f"/api/v1/tenants/{owner.tenant_id}/store", headers=jwt)).status_code == 200
    assert (await live_client.get(f"/api/v1/tenants/{owner.tenant_id}/api-keys", headers=jwt)).status_code == 403
    # a new password ends the sessions of the old one
    newer = GOOD + "-2"
    assert (await live_client.put(_path(owner), headers=owner.headers,
                                  json={"newPassword": newer, "confirmPassword": newer})).status_code == 200
    assert (await live_client.get(f"/api/v1/tenants/{owner.tenant_id}/store", headers=jwt)).status_code == 401


async def test_five_attempts_per_window_then_429_counted_in_postgresql(
    live_client: httpx.AsyncClient, sync_engine: sa.Engine
) -> None:
    owner = await register_tenant(live_client, "asset-pw-limit")
    for _ in range(5):
        response = await live_client.put(_path(owner), headers=owner.headers,
                                         json={"newPassword": "weak", "confirmPassword": "weak"})
        assert response.status_code == 422
    limited = await live_client.put(_path(owner), headers=owner.headers, json={"newPassword": GOOD, "confirmPassword": GOOD})
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 900
    with sync_engine.connect() as conn:  # the count lives in PostgreSQL: every API process sees it
        counted = conn.execute(sa.text("SELECT count(*) FROM auth_attempts WHERE tenant_id = :t"),
                               {"t": owner.tenant_id}).scalar_one()
    assert counted == 5
    # another tenant is not limited
    other = await register_tenant(live_client, "asset-pw-other")
    assert (await live_client.put(_path(other), headers=other.headers,
                                  json={"newPassword": GOOD, "confirmPassword": GOOD})).status_code == 200


async def test_wrong_passwords_are_401_then_429_and_tenants_are_isolated(live_client: httpx.AsyncClient) -> None:
    owner = await register_tenant(live_client, "asset-pw-login")
    stranger = await register_tenant(live_client, "asset-pw-stranger")
    assert (await live_client.put(_path(owner), headers=stranger.headers,
                                  json={"newPassword": GOOD, "confirmPassword": GOOD})).status_code == 403
    await live_client.put(_path(owner), headers=owner.headers, json={"newPassword": GOOD, "confirmPassword": GOOD})
    # the stranger's password (none set) or the right password for the wrong tenant: 401
    wrong_tenant = await live_client.post("/api/v1/auth/token", json={"tenantId": stranger.tenant_id, "password": GOOD})
    assert wrong_tenant.status_code == 401
    for _ in range(5):
        bad = await live_client.post("/api/v1/auth/token", json={"tenantId": owner.tenant_id, "password": "nope"})
        assert bad.status_code == 401 and bad.json()["error"]["code"] == "UNAUTHORIZED"
    locked = await live_client.post("/api/v1/auth/token", json={"tenantId": owner.tenant_id, "password": GOOD})
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    missing = await live_client.post("/api/v1/auth/token", json={"tenantId": owner.tenant_id})
    assert missing.status_code == 400
    # the key exchange still works and still needs a key
    assert (await live_client.post("/api/v1/auth/token", headers=owner.headers)).status_code == 201
    assert (await live_client.post("/api/v1/auth/token")).status_code == 401
