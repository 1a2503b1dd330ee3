"""Browser sessions: the portal JWT in an HttpOnly cookie, and the CSRF check that makes it safe.

A browser sends cookies with every request, including ones another site makes it send; so a
request authenticated by the cookie alone may read but not change anything: every state-changing
method must also carry `X-CSRF-Token`, a value derived from the session token with the server's
secret. Pages read it from the (script-readable, SameSite=Strict) `kariz_csrf` cookie; another site
can neither read that cookie nor compute the value.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from litestar.connection import ASGIConnection

from core.errors import Forbidden
from core.security.tokens import jwt_secret
from core.settings import Settings

SESSION_COOKIE = "kariz_session"
CSRF_COOKIE = "kariz_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def csrf_token_for(settings: Settings, session_token: str) -> str:
    """The CSRF value bound to one session token (the same token always gives the same value)."""
    digest = hmac.new(jwt_secret(settings).encode(), b"csrf:" + session_token.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def cookie_credential(connection: ASGIConnection) -> str | None:
    """The session token from the cookie, if any; Forbidden when a state-changing request lacks the
    CSRF header that matches it."""
    token = connection.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    if connection.scope.get("method", "GET") not in SAFE_METHODS:
        sent = connection.headers.get(CSRF_HEADER, "")
        expected = csrf_token_for(connection.app.state.settings, token)
        if not sent or not hmac.compare_digest(sent, expected):
            raise Forbidden("CSRF check failed: a change made with the session cookie needs the "
                            "X-CSRF-Token header of this session (reload the page and try again)")
    return token
