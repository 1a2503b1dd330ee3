"""What an account's role lets its API keys do: a key bound to an account is capped to its role.

- `viewer` reads only: `tenant:read`, `chat:read`;
- `member` reads and writes, but cannot manage keys or accounts (no `admin`);
- `admin` can do everything in the tenant (every tenant scope and `admin`, never `system:admin`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import sqlalchemy as sa

from core.db.models import Account, ApiKey, AuthSession, Role
from core.errors import Unauthenticated
from core.security.api_keys import ADMIN_SCOPE, ALL_TENANT_SCOPES

ROLE_SCOPES: dict[Role, frozenset[str]] = {
    Role.VIEWER: frozenset({"tenant:read", "chat:read"}),
    Role.MEMBER: frozenset({"tenant:read", "tenant:write", "chat:read", "chat:write", "chat:delete"}),
    Role.ADMIN: frozenset(ALL_TENANT_SCOPES),
}


def cap_scopes(scopes: Iterable[str], role: Role | str) -> frozenset[str]:
    """The scopes a key of an account with `role` really has: its own, within the role's.

    An `admin` scope on the key means every tenant scope, so it is expanded before capping."""
    allowed = ROLE_SCOPES[Role(role)]
    own = set(scopes)
    if ADMIN_SCOPE in own:
        own |= set(ALL_TENANT_SCOPES)
    return frozenset(own & allowed)


def scopes_beyond(scopes: Iterable[str], role: Role | str) -> list[str]:
    """The requested scopes an account with `role` may not hold, sorted."""
    allowed = ROLE_SCOPES[Role(role)]
    return sorted(set(scopes) - allowed)


def key_account_query(key_id: uuid.UUID) -> sa.Select:
    """The role and state of the account a key belongs to (no row for a key of no account)."""
    return (sa.select(Account.id, Account.role, Account.disabled)
            .join(ApiKey, ApiKey.account_id == Account.id).where(ApiKey.id == key_id))


def session_account_query(session_id: uuid.UUID) -> sa.Select:
    """The role and state of the account behind a token session: the password session's account, or
    the account of the key a key session was opened with (no row when there is none)."""
    return (
        sa.select(Account.id, Account.role, Account.disabled)
        .select_from(AuthSession)
        .outerjoin(ApiKey, ApiKey.id == AuthSession.api_key_id)
        .join(Account, Account.id == sa.func.coalesce(AuthSession.account_id, ApiKey.account_id))
        .where(AuthSession.id == session_id)
    )


def effective_scopes(scopes: Iterable[str], account_row: sa.Row | None) -> frozenset[str]:
    """What a credential may do given its account (None: no account, the scopes as granted);
    Unauthenticated when the account is disabled."""
    if account_row is None:
        return frozenset(scopes)
    if account_row.disabled:
        raise Unauthenticated("the account this credential belongs to is disabled")
    return cap_scopes(scopes, account_row.role)
