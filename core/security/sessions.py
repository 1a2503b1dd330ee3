"""Token sessions: every portal JWT comes from a session row and dies with it.

A session is opened when an API key is exchanged for a token (`kind="key"`) or when an account
signs in with its password (`kind="password"`). The JWT carries the session id (`sid`); every use
checks, against PostgreSQL, that the session is neither revoked nor expired and, for a key
session, that the key is neither revoked nor expired. Signing out revokes one session; a password
change revokes all password sessions of the tenant (or of one account). A token never mints a
token: only a key or a password opens a session.

These functions take a `Session` and do not commit; the caller owns the commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.db.models import ApiKey, AuthSession
from core.errors import InvalidInput, NotFound
from core.security import tokens
from core.settings import get_settings

MIN_TTL_S = 60
MAX_TTL_S = 86_400


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime
    session_id: uuid.UUID


def issue_token(
    session: Session,
    tenant_id: uuid.UUID,
    *,
    kind: str,
    key_id: uuid.UUID | None = None,
    account_id: uuid.UUID | None = None,
    scopes: Sequence[str],
    ttl: int | None = None,
) -> IssuedToken:
    """Open a session of `kind` ("key" with `key_id`, "password" with `account_id`) and sign a JWT
    for it carrying `scopes`, valid `ttl` seconds (the configured default when None) and only while
    the session lives. InvalidInput for a bad kind or ttl."""
    settings = get_settings()
    ttl = ttl or settings.jwt_ttl_seconds
    if not MIN_TTL_S <= ttl <= MAX_TTL_S:
        raise InvalidInput(f"ttl_seconds must be between {MIN_TTL_S} and {MAX_TTL_S}")
    if kind == "key" and key_id is None:
        raise InvalidInput("a key session needs the key")
    if kind == "password" and account_id is None:
        raise InvalidInput("a password session needs the account")
    if kind not in ("key", "password"):
        raise InvalidInput(f"unknown session kind {kind!r}")
    expires = datetime.now(UTC) + timedelta(seconds=ttl)
    row = AuthSession(
        id=uuid.uuid4(), tenant_id=tenant_id, kind=kind, api_key_id=key_id, account_id=account_id,
        expires_at=expires,
    )
    session.add(row)
    session.flush()
    subject = str(account_id or key_id)
    token, _ = tokens.issue_token(
        settings, tenant_id=tenant_id, subject=subject, scopes=list(scopes), ttl_seconds=ttl,
        session_id=row.id, kind=kind,
    )
    return IssuedToken(token=token, expires_at=expires, session_id=row.id)


def revoke_session(session: Session, tenant_id: uuid.UUID, session_id: uuid.UUID) -> datetime:
    """Revoke one session of the tenant (its tokens stop working); when it was revoked.
    NotFound for a session of another tenant or none."""
    row = session.get(AuthSession, session_id)
    if row is None or row.tenant_id != tenant_id:
        raise NotFound("no such session")
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        session.flush()
    return row.revoked_at


def revoke_password_sessions(
    session: Session, tenant_id: uuid.UUID, *, account_id: uuid.UUID | None = None
) -> int:
    """Revoke every live password session of the tenant (of one account when given), e.g. on a
    password change; how many were revoked."""
    query = sa.update(AuthSession).where(
        AuthSession.tenant_id == tenant_id, AuthSession.kind == "password", AuthSession.revoked_at.is_(None)
    )
    if account_id is not None:
        query = query.where(AuthSession.account_id == account_id)
    return session.execute(query.values(revoked_at=sa.func.now())).rowcount


def live_session_query(session_id: uuid.UUID, tenant_id: uuid.UUID) -> sa.Select:
    """A one-row query that answers only if the session lives: not revoked, not expired, of this
    tenant, and (for a key session) its key neither revoked nor expired. Run it sync or async."""
    now = sa.func.now()
    return (
        sa.select(AuthSession.id)
        .outerjoin(ApiKey, ApiKey.id == AuthSession.api_key_id)
        .where(
            AuthSession.id == session_id,
            AuthSession.tenant_id == tenant_id,
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > now,
            sa.or_(
                AuthSession.kind != "key",
                sa.and_(
                    ApiKey.id.is_not(None),
                    ApiKey.revoked_at.is_(None),
                    sa.or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now),
                ),
            ),
        )
    )
