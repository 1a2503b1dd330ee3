"""Portal JWTs (HS256): signed for a session (`core/security/sessions.py`), verified on every request."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from core.errors import Unauthenticated
from core.settings import Settings

ISSUER = "kariz"


def jwt_secret(settings: Settings) -> str:
    """The signing secret: `KARIZ_JWT_SECRET`, or outside production one generated once and kept
    under the data dir (so tokens survive restarts of a development instance)."""
    if settings.jwt_secret:
        return settings.jwt_secret.get_secret_value()
    path = settings.data_dir / "secrets" / "jwt_secret"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    secret = secrets.token_urlsafe(48)
    path.write_text(secret)
    path.chmod(0o600)
    return secret


@dataclass(frozen=True)
class TokenClaims:
    tenant_id: uuid.UUID
    subject: str
    scopes: tuple[str, ...]
    expires_at: datetime
    session_id: uuid.UUID
    kind: str  # the session's: "key" or "password"


def issue_token(settings: Settings, *, tenant_id: uuid.UUID, subject: str, scopes: list[str] | tuple[str, ...],
                session_id: uuid.UUID, kind: str, ttl_seconds: int | None = None) -> tuple[str, datetime]:
    """A signed token for the tenant with the given scopes, bound to session `session_id`, and when
    it expires. Open the session with `core.security.sessions.issue_token`, not this."""
    expires = datetime.now(UTC) + timedelta(seconds=ttl_seconds or settings.jwt_ttl_seconds)
    payload = {"iss": ISSUER, "sub": subject, "tid": str(tenant_id), "scopes": list(scopes), "exp": expires,
               "sid": str(session_id), "knd": kind}
    return jwt.encode(payload, jwt_secret(settings), algorithm=settings.jwt_algorithm), expires


def verify_token(settings: Settings, token: str) -> TokenClaims:
    """Decode and check a token's signature and expiry; Unauthenticated when it is invalid, expired
    or carries no session (the caller still checks that the session lives)."""
    try:
        payload = jwt.decode(token, jwt_secret(settings), algorithms=[settings.jwt_algorithm], issuer=ISSUER,
                             options={"require": ["exp", "sub", "tid", "sid"]})
        return TokenClaims(
            tenant_id=uuid.UUID(payload["tid"]), subject=str(payload["sub"]),
            scopes=tuple(payload.get("scopes") or ()),
            expires_at=datetime.fromtimestamp(payload["exp"], UTC),
            session_id=uuid.UUID(payload["sid"]), kind=str(payload.get("knd") or "key"),
        )
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("token expired") from None
    except (jwt.InvalidTokenError, ValueError, KeyError):
        raise Unauthenticated("invalid token") from None
