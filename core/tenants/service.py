"""Tenant, account and API-key operations: sync, on a Session the caller commits (`core/db/README.md`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.db.models import Account, ApiKey, Collection, Record, Role, Tenant
from core.db.tenant_rows import tenant_row
from core.errors import Conflict, InvalidInput, NotFound
from core.security.api_keys import (
    ALL_TENANT_SCOPES,
    KNOWN_SCOPES,
    display_prefix,
    generate_key,
    hash_key,
)
from core.settings import Settings, get_settings
from core.tenants.emails import checked_email


@dataclass(frozen=True)
class IssuedKey:
    """A freshly created key: `raw` is shown once and never stored."""

    key: ApiKey
    raw: str


def create_tenant(
    session: Session, name: str, *, email: str | None = None, settings: Settings | None = None
) -> Tenant:
    """Create a tenant with the default plan limits; Conflict when the name is taken."""
    settings = settings or get_settings()
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput("tenant name must be 1-200 characters")
    if session.execute(sa.select(Tenant.id).where(Tenant.name == name)).first():
        raise Conflict(f"tenant '{name}' already exists")
    tenant = Tenant(
        id=uuid.uuid4(),
        name=name,
        email=email,
        entity_limit=settings.default_entity_limit,
        storage_limit_bytes=settings.default_storage_limit_bytes,
        monthly_request_limit=settings.default_monthly_requests,
        monthly_token_limit=settings.default_monthly_tokens,
        per_minute_limit=settings.default_per_minute_limit,
        daily_limit=settings.default_daily_limit,
    )
    try:
        with session.begin_nested():  # two sign-ups racing for one name: the loser gets 409, not 500
            session.add(tenant)
            session.flush()
    except sa.exc.IntegrityError:
        raise Conflict(f"tenant '{name}' already exists") from None
    return tenant


def get_tenant(session: Session, tenant_id: uuid.UUID) -> Tenant:
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound(f"tenant {tenant_id} not found")
    return tenant


def find_tenant(session: Session, name_or_id: str) -> Tenant:
    """A tenant by id or by name."""
    try:
        return get_tenant(session, uuid.UUID(name_or_id))
    except ValueError:
        tenant = session.execute(sa.select(Tenant).where(Tenant.name == name_or_id)).scalar_one_or_none()
        if tenant is None:
            raise NotFound(f"tenant '{name_or_id}' not found") from None
        return tenant


def create_account(
    session: Session, tenant_id: uuid.UUID, email: str, *, name: str | None = None, role: Role = Role.MEMBER
) -> Account:
    """Create an account in the tenant; ValidationFailed (422) for an invalid e-mail, Conflict when it
    is taken there."""
    email = checked_email(email)
    exists = session.execute(
        sa.select(Account.id).where(Account.tenant_id == tenant_id, Account.email == email)
    ).first()
    if exists:
        raise Conflict(f"account '{email}' already exists")
    account = Account(id=uuid.uuid4(), tenant_id=tenant_id, email=email, name=name, role=role)
    session.add(account)
    session.flush()
    return account


def validate_scopes(scopes: list[str] | tuple[str, ...]) -> list[str]:
    """Known scopes only, without duplicates; InvalidInput otherwise."""
    unknown = sorted(set(scopes) - set(KNOWN_SCOPES))
    if unknown:
        raise InvalidInput(f"unknown scopes: {', '.join(unknown)}")
    return sorted(set(scopes))


def create_api_key(
    session: Session,
    tenant_id: uuid.UUID,
    name: str,
    scopes: list[str] | tuple[str, ...],
    *,
    expires_at: datetime | None = None,
    account_id: uuid.UUID | None = None,
) -> IssuedKey:
    """Issue a key for the tenant; only its hash is stored."""
    get_tenant(session, tenant_id)
    if not name.strip():
        raise InvalidInput("key name must not be empty")
    raw = generate_key()
    key = ApiKey(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        account_id=account_id,
        name=name.strip()[:200],
        prefix=display_prefix(raw),
        key_hash=hash_key(raw),
        scopes=validate_scopes(scopes),
        expires_at=expires_at,
    )
    session.add(key)
    session.flush()
    return IssuedKey(key=key, raw=raw)


def list_api_keys(session: Session, tenant_id: uuid.UUID) -> list[ApiKey]:
    return list(
        session.execute(
            sa.select(ApiKey).where(ApiKey.tenant_id == tenant_id).order_by(ApiKey.created_at)
        ).scalars()
    )


def revoke_api_key(session: Session, tenant_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey:
    """Revoke one of the tenant's keys; another tenant's key is NotFound."""
    key = tenant_row(session, ApiKey, key_id, tenant_id, f"API key {key_id}")
    if key.revoked_at is None:
        key.revoked_at = datetime.now(UTC)
    session.flush()
    return key


def register(session: Session, name: str, email: str) -> tuple[Tenant, IssuedKey]:
    """Self-service sign-up: a tenant, its admin account and a first key with every tenant scope."""
    tenant = create_tenant(session, name, email=email)
    account = create_account(session, tenant.id, email, role=Role.ADMIN)
    issued = create_api_key(session, tenant.id, "default", ALL_TENANT_SCOPES, account_id=account.id)
    return tenant, issued


def tenant_summaries(session: Session, tenant_ids: list[uuid.UUID] | None = None) -> list[dict]:
    """Tenants with record counts and collection names (all tenants when `tenant_ids` is None)."""
    counts = (
        sa.select(Record.tenant_id, sa.func.count().label("n"))
        .where(Record.status != "archived")
        .group_by(Record.tenant_id)
        .subquery()
    )
    query = (
        sa.select(Tenant, sa.func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.tenant_id == Tenant.id)
        .order_by(Tenant.created_at)
    )
    if tenant_ids is not None:
        query = query.where(Tenant.id.in_(tenant_ids))
    rows = session.execute(query).all()
    names: dict[uuid.UUID, list[str]] = {}
    for tenant_id, cname in session.execute(
        sa.select(Collection.tenant_id, Collection.name).order_by(Collection.name)
    ):
        names.setdefault(tenant_id, []).append(cname)
    return [
        {
            "tenant_id": str(t.id),
            "name": t.name,
            "record_count": int(n),
            "collections": names.get(t.id, []),
            "created_at": t.created_at,
        }
        for t, n in rows
    ]
