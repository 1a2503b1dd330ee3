"""Export ids as the API shows them: `exp_` followed by the hex of the work request's UUID."""

from __future__ import annotations

import uuid

from core.errors import NotFound

PREFIX = "exp_"


def export_id(request_id: uuid.UUID) -> str:
    """The public id of the export served by work request `request_id`."""
    return PREFIX + request_id.hex


def parse_export_id(value: str) -> uuid.UUID:
    """The work request UUID behind a public export id; NotFound when `value` is not one."""
    if not value.startswith(PREFIX):
        raise NotFound(f"export {value!r} not found")
    try:
        return uuid.UUID(hex=value[len(PREFIX) :])
    except ValueError:
        raise NotFound(f"export {value!r} not found") from None
