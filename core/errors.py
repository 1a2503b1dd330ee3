"""Domain errors raised by `core/` and `connectors/`.

Domain code never speaks HTTP: it raises one of these, and `api/errors.py` maps each class to a
status code and the contract's error body (`detail` plus `success: false, error: {code, message}`).
"""

from __future__ import annotations

from typing import Any


class KarizError(Exception):
    """Base of every domain error; `code` is the stable machine-readable name."""

    code = "ERROR"

    def __init__(self, message: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class InvalidInput(KarizError):
    """The caller sent something malformed or out of range (400)."""

    code = "BAD_REQUEST"


class ValidationFailed(KarizError):
    """The request is well-formed but semantically unacceptable, e.g. a missing field (422)."""

    code = "VALIDATION_ERROR"


class Unauthenticated(KarizError):
    """No credentials, or credentials that do not identify anyone (401)."""

    code = "UNAUTHORIZED"


class Forbidden(KarizError):
    """Valid credentials without the permission the operation needs (403)."""

    code = "FORBIDDEN"


class NotFound(KarizError):
    """The named thing does not exist for this tenant (404)."""

    code = "NOT_FOUND"


class Conflict(KarizError):
    """The operation clashes with the current state, e.g. a replace already pending (409)."""

    code = "CONFLICT"


class QuotaExceeded(KarizError):
    """The tenant's plan does not allow this much data (402)."""

    code = "QUOTA_EXCEEDED"


class PayloadTooLarge(KarizError):
    """An upload or body larger than the configured maximum (413)."""

    code = "PAYLOAD_TOO_LARGE"


class UnsupportedMediaType(KarizError):
    """Content of a kind the operation does not take, judged by its bytes (415)."""

    code = "UNSUPPORTED_MEDIA_TYPE"


class RateLimited(KarizError):
    """Too many requests in the current window (429); `retry_after` in seconds."""

    code = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after: int = 60, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message, extra=extra)
        self.retry_after = retry_after


class Unavailable(KarizError):
    """A dependency (database, vector store, model) cannot serve right now (503)."""

    code = "SERVICE_UNAVAILABLE"
