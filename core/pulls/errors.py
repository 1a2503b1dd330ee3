"""Why a pull failed, as one error type per way the API answers it.

A failed pull keeps the source's own code (`SOURCE_AUTH_FAILED`, `SOURCE_UNREACHABLE`,
`SOURCE_QUERY_INVALID`, `NAME_COLUMN_MISSING`, ...) and a message that never holds credentials;
`retryable` says whether trying again may help (Dagster retries those with backoff).
"""

from __future__ import annotations

from typing import Any

from core.errors import KarizError, Unavailable, ValidationFailed

# failures that no retry fixes: the registration itself must change
REJECTED_CODES = frozenset(
    {"CONNECTOR_CONFIG_INVALID", "SOURCE_QUERY_INVALID", "SOURCE_WRITE_REFUSED", "NAME_COLUMN_MISSING",
     "KEY_COLUMN_MISSING"}
)


class PullFailed(KarizError):
    """A pull that did not complete; `extra` carries the request id and the counts reached."""

    code = "PULL_FAILED"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        retryable: bool = False,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, extra=extra)
        if code:
            self.code = code
        self.retryable = retryable


class PullRejected(PullFailed, ValidationFailed):
    """The connector's query, config or name_column cannot work against this source (422)."""


class PullUnavailable(PullFailed, Unavailable):
    """The source could not be reached or went away; a later pull resumes (503)."""


def pull_failure(
    message: str, *, code: str, retryable: bool, extra: dict[str, Any] | None = None
) -> PullFailed:
    """The error that reports a pull failure with `code` (the class decides the HTTP status)."""
    if code in REJECTED_CODES:
        cls: type[PullFailed] = PullRejected
    elif retryable:
        cls = PullUnavailable
    else:
        cls = PullFailed
    return cls(message, code=code, retryable=retryable, extra=extra)
