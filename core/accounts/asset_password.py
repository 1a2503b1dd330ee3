"""The asset-manager password of a tenant: the spec's rules, a strength estimate, an Argon2id hash,
and 5 attempts per 15 minutes per tenant counted in PostgreSQL (so the limit holds across API
processes and restarts). The password itself is never logged, stored or returned.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.db.models import Account, AssetCredential, AuthAttempt, Role, Tenant
from core.errors import RateLimited, ValidationFailed

MIN_LENGTH = 8
MAX_LENGTH = 128
SPECIALS = "!@#$%^&*"
MIN_STRENGTH = 3  # zxcvbn score 0-4: 3 = "safely unguessable"
ATTEMPTS = 5
WINDOW = timedelta(minutes=15)
SET_ATTEMPT = "asset_password_set"
LOGIN_FAILURE = "asset_password_login"

_HASHER = PasswordHasher()  # Argon2id with argon2-cffi's recommended cost parameters


class WeakPassword(ValidationFailed):
    """The password breaks one or more rules; `extra["failedRules"]` names each."""

    code = "WEAK_PASSWORD"


def failed_rules(new_password: str, confirm_password: str) -> list[str]:
    """Every rule the password breaks (empty when it is acceptable)."""
    rules = []
    if len(new_password) < MIN_LENGTH:
        rules.append(f"at least {MIN_LENGTH} characters")
    if len(new_password) > MAX_LENGTH:
        rules.append(f"at most {MAX_LENGTH} characters")
    if not any("A" <= c <= "Z" for c in new_password):
        rules.append("at least one uppercase letter (A-Z)")
    if not any("a" <= c <= "z" for c in new_password):
        rules.append("at least one lowercase letter (a-z)")
    if not any(c.isdigit() for c in new_password):
        rules.append("at least one number (0-9)")
    if not any(c in SPECIALS for c in new_password):
        rules.append(f"at least one special character ({SPECIALS})")
    if new_password != confirm_password:
        rules.append("confirmPassword must equal newPassword")
    if MIN_LENGTH <= len(new_password) <= MAX_LENGTH:
        from zxcvbn import zxcvbn

        estimate = zxcvbn(new_password[:100])
        if estimate["score"] < MIN_STRENGTH:
            warning = estimate.get("feedback", {}).get("warning") or "it is easy to guess"
            rules.append(f"not weak or common (strength {estimate['score']}/4: {warning.rstrip('.')})")
    return rules


def _lock(session: Session, tenant_id: uuid.UUID, kind: str) -> None:
    session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"{kind}:{tenant_id}"})


def _window_attempts(session: Session, tenant_id: uuid.UUID, kind: str) -> tuple[int, datetime | None]:
    since = datetime.now(UTC) - WINDOW
    count, oldest = session.execute(
        sa.select(sa.func.count(), sa.func.min(AuthAttempt.at))
        .where(AuthAttempt.tenant_id == tenant_id, AuthAttempt.kind == kind, AuthAttempt.at > since)
    ).one()
    return count, oldest


def check_limit(session: Session, tenant_id: uuid.UUID, kind: str) -> None:
    """RateLimited (with seconds until a slot frees) once `ATTEMPTS` were counted in the window."""
    count, oldest = _window_attempts(session, tenant_id, kind)
    if count >= ATTEMPTS and oldest is not None:
        retry = int((oldest + WINDOW - datetime.now(UTC)).total_seconds()) + 1
        raise RateLimited(f"too many attempts: {ATTEMPTS} per {int(WINDOW.total_seconds() // 60)} minutes per tenant",
                          retry_after=max(1, retry))


def count_attempt(session: Session, tenant_id: uuid.UUID, kind: str) -> None:
    """Check the limit, then count one attempt (the caller commits it before doing the work, so a
    refused attempt still counts)."""
    _lock(session, tenant_id, kind)
    check_limit(session, tenant_id, kind)
    session.add(AuthAttempt(tenant_id=tenant_id, kind=kind, at=datetime.now(UTC)))
    session.flush()
    session.execute(sa.delete(AuthAttempt).where(AuthAttempt.at < datetime.now(UTC) - 2 * WINDOW))


def set_password(session: Session, tenant_id: uuid.UUID, new_password: str, confirm_password: str) -> datetime:
    """Store the Argon2id hash of an acceptable password; WeakPassword naming every failed rule.
    Returns when it was set. Sessions opened with the old password are revoked."""
    rules = failed_rules(new_password, confirm_password)
    if rules:
        raise WeakPassword("the password does not meet the rules: " + "; ".join(rules), extra={"failedRules": rules})
    now = datetime.now(UTC)
    digest = _HASHER.hash(new_password)
    session.execute(
        insert(AssetCredential).values(tenant_id=tenant_id, password_hash=digest, updated_at=now)
        .on_conflict_do_update(index_elements=["tenant_id"], set_={"password_hash": digest, "updated_at": now})
    )
    from core.security.sessions import revoke_password_sessions

    revoke_password_sessions(session, tenant_id)
    session.flush()
    return now


def asset_manager_account(session: Session, tenant_id: uuid.UUID) -> Account | None:
    """The account a password sign-in acts as: the tenant's first enabled admin account."""
    return session.execute(
        sa.select(Account).where(Account.tenant_id == tenant_id, Account.role == Role.ADMIN, ~Account.disabled)
        .order_by(Account.created_at, Account.id).limit(1)
    ).scalar_one_or_none()


def verify_password(session: Session, tenant_id: uuid.UUID, password: str) -> bool:
    """Whether `password` is the tenant's asset-manager password (constant work whether or not one is set)."""
    row = session.get(AssetCredential, tenant_id)
    digest = row.password_hash if row is not None else _DUMMY_HASH
    try:
        ok = _HASHER.verify(digest, password)
    except (VerificationError, InvalidHashError):
        return False
    return ok and row is not None


def sign_in(session: Session, tenant_id: uuid.UUID, password: str) -> Account | None:
    """The account a correct password signs in as, or None after counting the failure (the caller
    commits either way, then answers 401 for None). RateLimited after `ATTEMPTS` failures in the window."""
    if session.get(Tenant, tenant_id) is None:
        return None
    _lock(session, tenant_id, LOGIN_FAILURE)
    check_limit(session, tenant_id, LOGIN_FAILURE)
    account = asset_manager_account(session, tenant_id)
    if verify_password(session, tenant_id, password) and account is not None:
        return account
    session.add(AuthAttempt(tenant_id=tenant_id, kind=LOGIN_FAILURE, at=datetime.now(UTC)))
    session.flush()
    return None



_DUMMY_HASH = _HASHER.hash("not-a-password-of-anyone")
