"""Account e-mail addresses: one check for sign-up, accounts and the CLI."""

from __future__ import annotations

import re

from core.errors import ValidationFailed

# an ASCII address (RFC 5322 "dot-atom" local part, a dotted host name): no quotes, brackets, spaces
# or markup, so an address is safe to show in a page or a log line
_EMAIL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
MAX_EMAIL_LENGTH = 254


def checked_email(email: str | None) -> str:
    """The address, stripped and lower-cased in its domain; ValidationFailed (422) when it is not one."""
    value = (email or "").strip()
    if not value or len(value) > MAX_EMAIL_LENGTH or not _EMAIL.match(value):
        raise ValidationFailed("email is not a valid address (name@example.com)", extra={"field": "email"})
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"
