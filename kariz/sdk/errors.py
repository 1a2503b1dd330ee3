"""Exceptions the SDK raises, one class per kind of failure, mapped from the HTTP status and the
error body (`detail` and/or `error: {code, message}`)."""

from __future__ import annotations

from typing import Any

from kariz.sdk.retry_after import parse_retry_after


class KarizError(Exception):
    """Base of every SDK error."""


class KarizConnectionError(KarizError):
    """The server could not be reached, or the connection broke (after retries)."""


class KarizTimeoutError(KarizError):
    """A wait the SDK controls (e.g. for an export to finish) ran out of time."""


class APIError(KarizError):
    """The API answered with an error status. `status`, `code`, `message` and the parsed `body`."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code or 'ERROR'}: {message}")
        self.message = message
        self.status = status
        self.code = code
        self.body = body
        self.headers = headers or {}


class ValidationError(APIError):
    """The request was malformed or semantically invalid (400, 422)."""


class AuthenticationError(APIError):
    """Missing, unknown, expired or revoked credentials (401)."""


class QuotaExceededError(APIError):
    """The tenant's plan does not allow this (402)."""


class PermissionDenied(APIError):
    """The key lacks the scope this call needs (403)."""


class NotFoundError(APIError):
    """No such collection, record, connector or export for this tenant (404)."""


class ConflictError(APIError):
    """The call clashes with the current state, e.g. an export still processing (409)."""


class PayloadTooLargeError(APIError):
    """The upload or body is larger than the server accepts (413)."""


class RateLimitError(APIError):
    """Too many requests (429) even after retries; `retry_after` seconds when the server said."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(APIError):
    """The server failed (5xx), after retries where they apply."""


class ExportFailedError(KarizError):
    """An export finished as failed or expired; `reason` says why."""

    def __init__(self, export_id: str, status: str, reason: str | None) -> None:
        super().__init__(f"export {export_id} {status}: {reason or 'no reason given'}")
        self.export_id = export_id
        self.status = status
        self.reason = reason


_BY_STATUS: dict[int, type[APIError]] = {
    400: ValidationError,
    401: AuthenticationError,
    402: QuotaExceededError,
    403: PermissionDenied,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    422: ValidationError,
    429: RateLimitError,
}


def error_message(body: Any, fallback: str) -> tuple[str, str | None]:
    """(message, code) from an error body in any of the shapes the API uses."""
    if isinstance(body, dict):
        error = body.get("error")
        code = error.get("code") if isinstance(error, dict) else None
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"]), code
        detail = body.get("detail")
        if isinstance(detail, str) and detail:
            return detail, code
        if detail:  # e.g. a list of field errors
            return str(detail), code
        if isinstance(error, str) and error:
            return error, code
        if body.get("message"):
            return str(body["message"]), code
    return fallback, None


def error_for(status: int, body: Any, headers: dict[str, str], text: str = "") -> APIError:
    """The exception for an error response."""
    message, code = error_message(body, text.strip()[:500] or f"HTTP {status}")
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else APIError)
    if cls is RateLimitError:
        return RateLimitError(
            message,
            retry_after=parse_retry_after(headers.get("retry-after")),
            status=status,
            code=code,
            body=body,
            headers=headers,
        )
    return cls(message, status=status, code=code, body=body, headers=headers)
