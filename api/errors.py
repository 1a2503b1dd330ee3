"""The one mapping from errors to HTTP: status codes and the contract's error body.

Every error answers `{"detail": msg, "success": false, "error": {"code": ..., "message": ...}}`, so
clients written against either contract page understand it. Unexpected errors say nothing internal.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from sqlalchemy import exc as sa_exc

from core import errors as e

log = logging.getLogger("kariz.api")

STATUS_BY_ERROR: dict[type[e.KarizError], int] = {
    e.InvalidInput: 400,
    e.Unauthenticated: 401,
    e.QuotaExceeded: 402,
    e.Forbidden: 403,
    e.NotFound: 404,
    e.Conflict: 409,
    e.PayloadTooLarge: 413,
    e.UnsupportedMediaType: 415,
    e.ValidationFailed: 422,
    e.RateLimited: 429,
    e.Unavailable: 503,
}

CODE_BY_STATUS = {
    400: "BAD_REQUEST", 401: "UNAUTHORIZED", 402: "QUOTA_EXCEEDED", 403: "FORBIDDEN", 404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED", 409: "CONFLICT", 413: "PAYLOAD_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE",
    422: "VALIDATION_ERROR", 429: "RATE_LIMITED", 500: "INTERNAL_ERROR", 503: "SERVICE_UNAVAILABLE",
}


def error_body(status: int, message: str, code: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "detail": message,
        "success": False,
        "error": {"code": code or CODE_BY_STATUS.get(status, "ERROR"), "message": message},
    }
    if extra:
        body["error"].update(extra)
    return body


def _status_for(exc: e.KarizError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 400


def domain_error_handler(_: Request, exc: e.KarizError) -> Response:
    status = _status_for(exc)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, e.RateLimited) else None
    if status == 401:
        headers = {"WWW-Authenticate": "Bearer"}
    return Response(error_body(status, exc.message, exc.code, **exc.extra), status_code=status, headers=headers)


def http_error_handler(_: Request, exc: HTTPException) -> Response:
    status = exc.status_code
    message = exc.detail or "error"
    extra: dict[str, Any] = {}
    if isinstance(exc, ValidationException):
        status = 400
        message = exc.detail or "invalid request"
        if exc.extra:
            extra["details"] = exc.extra
    if isinstance(exc, NotAuthorizedException):
        message = "Invalid or missing API Key"
    if status == 413:
        message = "request body exceeds the maximum allowed size"
    if status == 400 and str(message).startswith("JSON is malformed:"):
        # msgspec's "JSON is malformed: trailing comma in object (byte 8)"
        message = "malformed JSON: " + str(message).removeprefix("JSON is malformed:").strip()
    return Response(error_body(status, str(message), **extra), status_code=status, headers=exc.headers)


def _nul_in_text(exc: Exception) -> bool:
    """PostgreSQL refusing a NUL byte in a text parameter (asyncpg or psycopg), however wrapped."""
    text = f"{type(getattr(exc, 'orig', None) or exc).__name__}: {exc}"
    return ("CharacterNotInRepertoire" in text or "UntranslatableCharacter" in text
            or "0x00" in text or "NUL (0x00)" in text)


def unexpected_error_handler(request: Request, exc: Exception) -> Response:
    if isinstance(exc, RecursionError):  # a request body nested past what the decoder can follow
        return Response(error_body(400, "malformed JSON: the body nests too deeply"), status_code=400)
    if isinstance(exc, sa_exc.DBAPIError | ValueError) and _nul_in_text(exc):
        return Response(error_body(400, "the request contains a NUL byte, which text values cannot hold"),
                        status_code=400)
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    status = HTTP_500_INTERNAL_SERVER_ERROR
    return Response(error_body(status, "internal error"), status_code=status)


EXCEPTION_HANDLERS = {
    e.KarizError: domain_error_handler,
    HTTPException: http_error_handler,
    Exception: unexpected_error_handler,
}
