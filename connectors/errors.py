"""Typed failures of a source connector.

Every failure a source can cause is one of these classes, so callers decide by type: retry
(`retryable`), show the user (`message`), or refuse at registration. Messages name the source by
kind and address only: they never carry a password, DSN or URI with credentials.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

from core.errors import KarizError, ValidationFailed


class SourceError(KarizError):
    """A pull or connection check failed because of the source; `retryable` says if trying again may help."""

    code = "SOURCE_ERROR"
    retryable = False

    def __init__(self, message: str, *, kind: str | None = None, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message, extra=extra)
        self.kind = kind


class ConnectorConfigInvalid(SourceError, ValidationFailed):
    """The connection config is missing keys or has values of the wrong type (checked before connecting)."""

    code = "CONNECTOR_CONFIG_INVALID"


class SourceAuthFailed(SourceError):
    """The source refused the login: wrong user, password, or a database the user may not open."""

    code = "SOURCE_AUTH_FAILED"


class SourceUnreachable(SourceError):
    """No connection could be opened: host unknown, port closed, timeout, or TLS refused."""

    code = "SOURCE_UNREACHABLE"
    retryable = True


class SourceTargetForbidden(SourceError, ValidationFailed):
    """The connector names a place Kariz must not connect to for a tenant: a Unix socket, a loopback,
    private, link-local or metadata address, or Kariz's own database (not allow-listed)."""

    code = "SOURCE_TARGET_FORBIDDEN"


class SourceQueryInvalid(SourceError, ValidationFailed):
    """The query cannot run: a syntax error, an unknown table or field, a malformed filter."""

    code = "SOURCE_QUERY_INVALID"


class SourceWriteRefused(SourceError, ValidationFailed):
    """The query would write; connectors only read (refused before running, or by the read-only session)."""

    code = "SOURCE_WRITE_REFUSED"


class SourceLost(SourceError):
    """The connection broke after the pull started; batches already yielded are an incomplete result."""

    code = "SOURCE_LOST"
    retryable = True


def scrub(text: str, secrets: list[str]) -> str:
    """`text` with every non-trivial secret string replaced by `***` (driver messages may echo a DSN)."""
    for secret in sorted((s for s in secrets if s and len(s) >= 3), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def url_secrets(url: str) -> list[str]:
    """What `scrub` must hide of a connection URL: the URL itself and its password, as written and
    percent-decoded."""
    password = urlsplit(url).password
    return [url, password, unquote(password)] if password else [url]
