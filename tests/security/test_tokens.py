"""Portal JWTs die with the key or session they came from, and never mint each other.

Through the real API on real PostgreSQL: a token stops working when its key is revoked (in this
process at once; in another process after the few seconds of cache, shown by revoking in the
database and moving the cache clock), on sign-out, and on a password change; a token cannot mint
a token; a token without a session (the old kind) is refused.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
import sqlalchemy as sa

from api.auth import middleware
from core.db.models import Account
from core.security import sessions
from core.security.api_keys import ALL_TENANT_SCOPES
from core.security.tokens import ISSUER
from core.settings import Settings
from tests.integration.conftest import TenantKey, register_tenant

pytestmark = pytest.mark.integration
V1 = "/api/v1"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def mint(client: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    return await client.post(f"{V1}/auth/token", headers=headers)


async def token_of(client: httpx.AsyncClient, owner: TenantKey) -> str:
    issued = await mint(client, owner.headers)
    assert issued.status_code == 201, issued.text
    body = issued.json()["data"]
    assert body["tokenType"] == "Bearer" and body["sessionId"]
    return body["token"]


async def works(client: httpx.AsyncClient, token: str) -> bool:
    response = await client.get(f"{V1}/tenants", headers=bearer(token))
    assert response.status_code in (200, 401), response.text
    if response.status_code == 401:
        body = response.json()
        assert body["success"] is False and body["error"]["code"] == "UNAUTHORIZED"
    return response.status_code == 200


async def second_key(client: httpx.AsyncClient, owner: TenantKey) -> tuple[str, str]:
    created = await client.post(
        f"{V1}/tenants/{owner.tenant_id}/api-keys", json={"name": "portal"}, headers=owner.headers
    )
    assert created.status_code == 201, created.text
    return created.json()["data"]["id"], created.json()["data"]["apiKey"]


async def test_a_token_dies_with_its_revoked_key(live_client: httpx.AsyncClient) -> None:
    owner = await register_tenant(live_client, "tok")
    key_id, raw = await second_key(live_client, owner)
    token = await token_of(live_client, TenantKey(owner.tenant_id, raw))
    assert await works(live_client, token)
    revoked = await live_client.delete(f"{V1}/tenants/{owner.tenant_id}/api-keys/{key_id}", headers=owner.headers)
    assert revoked.status_code == 200
    assert not await works(live_client, token)
    assert await works(live_client, await token_of(live_client, owner))  # other keys' tokens live on


async def test_a_revocation_by_another_process_ends_the_token_after_the_cache(
    live_client: httpx.AsyncClient, sync_engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another API process revokes the key (a write in PostgreSQL this process never saw): once the
    few seconds of cache are over, the token is refused here too."""
    owner = await register_tenant(live_client, "tok")
    key_id, raw = await second_key(live_client, owner)
    token = await token_of(live_client, TenantKey(owner.tenant_id, raw))
    assert await works(live_client, token)  # the live session is now cached
    with sync_engine.begin() as conn:
        conn.execute(sa.text("UPDATE api_keys SET revoked_at = now() WHERE id = :k"), {"k": key_id})
    later = middleware.time.monotonic() + middleware.CACHE_SECONDS + 0.1
    monkeypatch.setattr(middleware.time, "monotonic", lambda: later)
    assert not await works(live_client, token)


async def test_a_token_cannot_mint_a_token(client: httpx.AsyncClient, tenant_key: TenantKey) -> None:
    token = await token_of(client, tenant_key)
    again = await mint(client, bearer(token))
    assert again.status_code == 403, again.text
    assert again.json()["error"]["code"] == "FORBIDDEN" and again.json()["success"] is False


async def test_logout_revokes_the_session(client: httpx.AsyncClient, tenant_key: TenantKey) -> None:
    token, other = await token_of(client, tenant_key), await token_of(client, tenant_key)
    out = await client.post(f"{V1}/auth/logout", headers=bearer(token))
    assert out.status_code == 200, out.text
    assert out.json()["success"] is True and out.json()["data"]["revokedAt"]
    assert not await works(client, token)
    assert (await client.post(f"{V1}/auth/logout", headers=bearer(token))).status_code == 401
    assert await works(client, other)  # only that session ended
    with_key = await client.post(f"{V1}/auth/logout", headers=tenant_key.headers)
    assert with_key.status_code == 400 and with_key.json()["error"]["code"] == "BAD_REQUEST"


async def test_a_password_change_revokes_password_sessions_only(
    live_client: httpx.AsyncClient, sync_engine: sa.Engine
) -> None:
    owner = await register_tenant(live_client, "tok")
    other = await register_tenant(live_client, "tok")
    tenant_id, other_id = uuid.UUID(owner.tenant_id), uuid.UUID(other.tenant_id)
    with sync_engine.begin() as conn, sa.orm.Session(bind=conn) as session:
        account = session.scalars(sa.select(Account).where(Account.tenant_id == tenant_id)).one()
        other_account = session.scalars(sa.select(Account).where(Account.tenant_id == other_id)).one()
        signed_in = sessions.issue_token(
            session, tenant_id, kind="password", account_id=account.id, scopes=ALL_TENANT_SCOPES, ttl=600
        )
        neighbour = sessions.issue_token(
            session, other_id, kind="password", account_id=other_account.id, scopes=ALL_TENANT_SCOPES, ttl=600
        )
        session.flush()
    key_token = await token_of(live_client, owner)
    assert await works(live_client, signed_in.token) and await works(live_client, neighbour.token)
    with sync_engine.begin() as conn, sa.orm.Session(bind=conn) as session:
        assert sessions.revoke_password_sessions(session, tenant_id) == 1
        session.flush()
    middleware.forget_session(signed_in.session_id)  # as the password-change handler does
    assert not await works(live_client, signed_in.token)
    assert await works(live_client, key_token)  # a key session is not a password session
    assert await works(live_client, neighbour.token)  # another tenant's sessions are untouched


async def test_tokens_without_a_live_session_are_refused(
    client: httpx.AsyncClient, tenant_key: TenantKey, app_settings: Settings
) -> None:
    secret = app_settings.jwt_secret.get_secret_value()
    exp = datetime.now(UTC) + timedelta(hours=1)
    claims = {"iss": ISSUER, "sub": "x", "tid": tenant_key.tenant_id, "scopes": ["admin"], "exp": exp}
    old_style = jwt.encode(claims, secret, algorithm="HS256")  # what today's tokens look like
    assert not await works(client, old_style)
    made_up = jwt.encode({**claims, "sid": str(uuid.uuid4()), "knd": "key"}, secret, algorithm="HS256")
    assert not await works(client, made_up)
    # a real session of one tenant does not carry over to a token naming another tenant
    token = await token_of(client, tenant_key)
    sid = jwt.decode(token, secret, algorithms=["HS256"], issuer=ISSUER)["sid"]
    other = await register_tenant(client, "tok")
    crossed = jwt.encode({**claims, "tid": other.tenant_id, "sid": sid, "knd": "key"}, secret, algorithm="HS256")
    assert not await works(client, crossed)
