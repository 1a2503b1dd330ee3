"""Accounts of a tenant: list, read, update (name, email, role, disabled)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.db.models import Account, Role
from core.db.tenant_rows import tenant_row
from core.errors import Conflict, InvalidInput, ValidationFailed

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")
UNSET = object()


@dataclass(frozen=True)
class AccountChanges:
    """Fields to change; `UNSET` leaves a field as it is."""

    name: object = UNSET
    email: object = UNSET
    role: object = UNSET
    disabled: object = UNSET


def get_account(session: Session, tenant_id: uuid.UUID, account_id: uuid.UUID) -> Account:
    """The tenant's account; NotFound for another tenant's or an unknown id."""
    return tenant_row(session, Account, account_id, tenant_id, f"account {account_id}")


def list_accounts(
    session: Session, tenant_id: uuid.UUID, *, limit: int, offset: int
) -> tuple[list[Account], int]:
    """The tenant's accounts, oldest first, and how many there are."""
    where = Account.tenant_id == tenant_id
    rows = (
        session.execute(
            sa.select(Account)
            .where(where)
            .order_by(Account.created_at, Account.id)
            .limit(limit)
            .offset(offset)
        )
        .scalars()
        .all()
    )
    total = session.execute(sa.select(sa.func.count()).select_from(Account).where(where)).scalar_one()
    return list(rows), total


def update_account(
    session: Session, tenant_id: uuid.UUID, account_id: uuid.UUID, changes: AccountChanges
) -> Account:
    """Apply `changes`; InvalidInput for a bad e-mail, name or role, Conflict for an e-mail taken in the tenant."""
    account = get_account(session, tenant_id, account_id)
    if changes.email is not UNSET:
        email = str(changes.email or "").strip()
        if not _EMAIL.match(email):
            raise InvalidInput("email must be an e-mail address")
        taken = session.execute(
            sa.select(Account.id).where(
                Account.tenant_id == tenant_id,
                sa.func.lower(Account.email) == email.lower(),
                Account.id != account_id,
            )
        ).first()
        if taken:
            raise Conflict(f"an account with e-mail {email} already exists in this tenant")
        account.email = email
    if changes.name is not UNSET:
        name = changes.name.strip() if isinstance(changes.name, str) else None
        if name is not None and len(name) > 200:
            raise InvalidInput("name must be at most 200 characters")
        account.name = name or None
    if changes.role is not UNSET:
        try:
            account.role = Role(changes.role)
        except ValueError:
            raise InvalidInput("role must be admin, member or viewer") from None
    if changes.disabled is not UNSET:
        if not isinstance(changes.disabled, bool):
            raise InvalidInput("disabled must be true or false")
        account.disabled = changes.disabled
    session.flush()
    return account


def scopes_for_account_key(
    session: Session, tenant_id: uuid.UUID, account_id: uuid.UUID, requested: list[str] | None
) -> list[str]:
    """The scopes of a new key for the account: `requested`, or the tenant defaults its role allows.
    NotFound for another tenant's account; ValidationFailed naming requested scopes beyond the role."""
    from core.accounts.roles import ROLE_SCOPES, scopes_beyond
    from core.security.api_keys import TENANT_SCOPES

    account = get_account(session, tenant_id, account_id)
    if requested is None:
        return [s for s in TENANT_SCOPES if s in ROLE_SCOPES[account.role]]
    beyond = scopes_beyond(requested, account.role)
    if beyond:
        raise ValidationFailed(f"an account with role {account.role.value} cannot hold: {', '.join(beyond)}")
    return requested
