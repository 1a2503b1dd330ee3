"""Bodies and views of the asset-manager password route."""

from __future__ import annotations

from datetime import datetime

import msgspec


class PasswordBody(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    new_password: str
    confirm_password: str


class PasswordUpdatedView(msgspec.Struct, rename="camel"):
    updated_at: datetime


class PasswordUpdatedResponse(msgspec.Struct):
    data: PasswordUpdatedView
    success: bool = True
