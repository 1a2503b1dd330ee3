"""Authentication: API keys (`Authorization: Bearer sk_...` or `x-api-key: sk_...`) and portal JWTs
(as a bearer token, or from the portal's session cookie with its CSRF header: `api/auth/cookies.py`).

Key lookups are cached for a few seconds per process (revocation through this API drops the entry
at once); `last_used_at` is written at most once per cache period per key. A JWT is honoured only
while its session lives (`core/security/sessions.py`): checked in PostgreSQL, the answer cached
for at most `CACHE_SECONDS` per process, so a revocation in any API process (a revoked key, a
sign-out, a password change) ends its tokens everywhere within that time. A key or token of an
account is capped by the account's role (`core/accounts/roles.py`) and refused while the account is
disabled, read with the same lookups, so a role change also applies everywhere within that time.
The account's role also says what it sees: a member's or viewer's credential only its own account's
files (`Principal.bound_account`).
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from api.auth.cookies import cookie_credential
from api.auth.principal import Principal
from core.accounts.roles import effective_scopes, key_account_query, session_account_query
from core.db.models import ApiKey
from core.errors import Unauthenticated
from core.security.api_keys import hash_key, looks_like_key
from core.security.sessions import live_session_query
from core.security.tokens import TokenClaims, verify_token

log = logging.getLogger(__name__)
CACHE_SECONDS = 5.0

# hash -> (principal, expires_at of the key, cached until monotonic)
_key_cache: dict[str, tuple[Principal, datetime | None, float]] = {}


# session id -> (cached until monotonic, the account's row capping the token's scopes) (only live sessions)
_session_cache: dict[uuid.UUID, tuple[float, Any]] = {}


def forget_key(key_id: uuid.UUID) -> None:
    """Drop a key, and every token session cached in this process, from the caches (after
    revocation): this process stops honouring them at once, the others within CACHE_SECONDS."""
    for digest, (principal, _, _) in list(_key_cache.items()):
        if principal.key_id == key_id:
            _key_cache.pop(digest, None)
    _session_cache.clear()


def forget_account(account_id: uuid.UUID) -> None:
    """Drop an account's keys and every cached token session (after a role change or disabling):
    this process applies the change at once, the others within CACHE_SECONDS."""
    for digest, (principal, _, _) in list(_key_cache.items()):
        if principal.account_id == account_id:
            _key_cache.pop(digest, None)
    _session_cache.clear()


def forget_sessions() -> None:
    """Drop every cached token session (after sessions were revoked in bulk, e.g. a password change)."""
    _session_cache.clear()


def forget_session(session_id: uuid.UUID) -> None:
    """Drop a token session from this process's cache (after sign-out)."""
    _session_cache.pop(session_id, None)


async def _principal_for_token(connection: ASGIConnection, raw: str) -> Principal:
    claims: TokenClaims = verify_token(connection.app.state.settings, raw)
    until, account = _session_cache.get(claims.session_id, (0.0, None))
    if until <= time.monotonic():
        async with connection.app.state.session_factory() as session:
            live = (await session.execute(live_session_query(claims.session_id, claims.tenant_id))).first()
            account = (await session.execute(session_account_query(claims.session_id))).first()
        if live is None:
            _session_cache.pop(claims.session_id, None)
            raise Unauthenticated("token session ended (signed out, key revoked or expired)")
        _session_cache[claims.session_id] = (time.monotonic() + CACHE_SECONDS, account)
    key_id = uuid.UUID(claims.subject) if claims.kind == "key" else None
    return Principal(tenant_id=claims.tenant_id, scopes=effective_scopes(claims.scopes, account), key_id=key_id,
                     subject=claims.subject, via="jwt", session_id=claims.session_id,
                     account_id=account.id if account is not None else None,
                     account_role=str(account.role) if account is not None else None)


def extract_credential(connection: ASGIConnection) -> str | None:
    """The raw key or token from the request headers, else the portal session cookie, if any."""
    header = connection.headers.get("x-api-key")
    if header:
        return header.strip()
    auth = connection.headers.get("authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        raise Unauthenticated("Authorization header must be 'Bearer <key or token>'")
    return cookie_credential(connection)


async def _principal_for_key(connection: ASGIConnection, raw: str) -> Principal:
    if not looks_like_key(raw):
        raise Unauthenticated("Invalid or missing API Key")
    digest = hash_key(raw)
    now = datetime.now(UTC)
    cached = _key_cache.get(digest)
    if cached and cached[2] > time.monotonic():
        principal, expires_at, _ = cached
        if expires_at is not None and expires_at <= now:
            raise Unauthenticated("API key expired")
        return principal
    factory = connection.app.state.session_factory
    async with factory() as session:
        key = (await session.execute(sa.select(ApiKey).where(ApiKey.key_hash == digest))).scalar_one_or_none()
        if key is None:
            raise Unauthenticated("Invalid or missing API Key")
        if key.revoked_at is not None:
            raise Unauthenticated("API key revoked")
        if key.expires_at is not None and key.expires_at <= now:
            raise Unauthenticated("API key expired")
        account = (await session.execute(key_account_query(key.id))).first() if key.account_id else None
        scopes = effective_scopes(key.scopes, account)  # the account's role caps the key; disabled: 401
        await session.execute(sa.update(ApiKey).where(ApiKey.id == key.id).values(last_used_at=now))
        await session.commit()
        principal = Principal(tenant_id=key.tenant_id, scopes=scopes, key_id=key.id, account_id=key.account_id,
                              account_role=str(account.role) if account is not None else None)
        _key_cache[digest] = (principal, key.expires_at, time.monotonic() + CACHE_SECONDS)
        return principal


async def authenticate_connection(connection: ASGIConnection) -> Principal:
    """The caller's Principal from its key or token, or Unauthenticated (also for public routes that
    authenticate some requests themselves, e.g. `POST /auth/token`)."""
    raw = extract_credential(connection)
    if not raw:
        raise Unauthenticated("Invalid or missing API Key")
    if raw.startswith("sk_"):
        return await _principal_for_key(connection, raw)
    return await _principal_for_token(connection, raw)


class AuthMiddleware(AbstractAuthenticationMiddleware):
    """Sets `request.user` to a Principal, or answers 401."""

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        principal = await authenticate_connection(connection)
        return AuthenticationResult(user=principal, auth=principal)
