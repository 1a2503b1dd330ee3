"""Bodies and views of the account routes (camelCase, inside `{"success": true, "data": ...}`)."""

from __future__ import annotations

from datetime import datetime

import msgspec

from api.envelopes import Envelope, Page, named
from core.accounts.service import UNSET, AccountChanges
from core.db.models import Account


class PatchAccountBody(msgspec.Struct, forbid_unknown_fields=True):
    """Only the fields sent change."""

    name: str | None | msgspec.UnsetType = msgspec.UNSET
    email: str | msgspec.UnsetType = msgspec.UNSET
    role: str | msgspec.UnsetType = msgspec.UNSET
    disabled: bool | msgspec.UnsetType = msgspec.UNSET

    def changes(self) -> AccountChanges:
        def pick(value: object) -> object:
            return UNSET if value is msgspec.UNSET else value

        return AccountChanges(name=pick(self.name), email=pick(self.email), role=pick(self.role),
                              disabled=pick(self.disabled))


class PutAccountBody(msgspec.Struct, forbid_unknown_fields=True):
    """The whole account: fields left out take their defaults (no name, not disabled)."""

    email: str
    role: str
    name: str | None = None
    disabled: bool = False

    def changes(self) -> AccountChanges:
        return AccountChanges(name=self.name, email=self.email, role=self.role, disabled=self.disabled)


class AccountView(msgspec.Struct, rename="camel"):
    id: str
    tenant_id: str
    email: str
    name: str | None
    role: str
    disabled: bool
    created_at: datetime | None
    updated_at: datetime | None


AccountResponse = named(Envelope[AccountView], "AccountResponse")


AccountListResponse = named(Page[AccountView], "AccountListResponse")


def account_view(a: Account) -> AccountView:
    return AccountView(id=str(a.id), tenant_id=str(a.tenant_id), email=a.email, name=a.name, role=a.role.value,
                       disabled=bool(a.disabled), created_at=a.created_at, updated_at=a.updated_at)
