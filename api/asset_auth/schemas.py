"""Bodies and views of the asset-manager password route."""

from __future__ import annotations

from datetime import datetime

import msgspec

from api.envelopes import Envelope, named


class PasswordBody(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    new_password: str
    confirm_password: str


class PasswordUpdatedView(msgspec.Struct, rename="camel"):
    updated_at: datetime


PasswordUpdatedResponse = named(Envelope[PasswordUpdatedView], "PasswordUpdatedResponse")
