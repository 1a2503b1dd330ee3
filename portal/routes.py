"""`/portal`: the single page (one HTML shell for every portal path), its static files, and the
browser session (`/portal/session`: the portal JWT from `POST /api/v1/auth/token` moved into an
HttpOnly cookie, read back as claims, and ended).

The pages themselves only call `/api/v1`; these routes hold no rule of the API. Every response
carries a content-security-policy that allows no inline script and nothing from another origin.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
from litestar import Controller, Request, Response, Router, delete, get, post
from litestar.datastructures import Cookie, ResponseHeader, State
from litestar.response import File
from litestar.static_files import create_static_files_router

from api.auth.cookies import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE, cookie_credential, csrf_token_for
from api.auth.principal import Principal
from core.errors import Forbidden, InvalidInput, NotFound, Unauthenticated
from core.security.api_keys import KNOWN_SCOPES
from core.security.tokens import verify_token
from core.settings import Settings

STATIC_DIR = Path(__file__).parent / "static"
PORTAL_PREFIX = "/portal"
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'; object-src 'none'"
)
SECURITY_HEADERS = [
    ResponseHeader(name="Content-Security-Policy", value=CONTENT_SECURITY_POLICY),
    ResponseHeader(name="X-Content-Type-Options", value="nosniff"),
    ResponseHeader(name="Referrer-Policy", value="no-referrer"),
    ResponseHeader(name="X-Frame-Options", value="DENY"),
]


class SessionBody(msgspec.Struct, forbid_unknown_fields=True):
    """A portal JWT just issued by `POST /api/v1/auth/token`."""

    token: str


class SessionView(msgspec.Struct, rename="camel"):
    tenant_id: str
    subject: str
    scopes: list[str]
    # what the session may do, decided by the API's own rule (Principal.allows): pages show only these
    allows: list[str]
    expires_at: str
    csrf_token: str


class SessionAnswer(msgspec.Struct):
    data: SessionView
    success: bool = True


def _is_https(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "").lower() == "https"


def _refuse_cross_site(request: Request) -> None:
    # a sign-in forced on the browser from another site would sign it into the attacker's tenant
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        raise Forbidden("the portal session can only be changed from the portal itself")


def _session_view(settings: Settings, token: str) -> SessionView:
    claims = verify_token(settings, token)
    principal = Principal(tenant_id=claims.tenant_id, scopes=frozenset(claims.scopes), subject=claims.subject,
                          via="jwt")
    return SessionView(tenant_id=str(claims.tenant_id), subject=claims.subject, scopes=list(claims.scopes),
                       allows=[scope for scope in KNOWN_SCOPES if principal.allows(scope)],
                       expires_at=claims.expires_at.isoformat(), csrf_token=csrf_token_for(settings, token))


class PortalSessionController(Controller):
    path = "/session"
    include_in_schema = False

    @post("/", status_code=200)
    async def start(self, request: Request[Any, Any, State], data: SessionBody) -> Response[SessionAnswer]:
        """Keep a valid portal JWT as this browser's session: an HttpOnly, SameSite=Strict cookie
        (Secure over https) that lives as long as the token, and the CSRF value pages send back."""
        _refuse_cross_site(request)
        settings: Settings = request.app.state.settings
        if not data.token or data.token.startswith("sk_"):
            raise InvalidInput("token must be a portal JWT from POST /api/v1/auth/token")
        view = _session_view(settings, data.token)
        max_age = max(0, int((datetime.fromisoformat(view.expires_at) - datetime.now(UTC)).total_seconds()))
        secure = _is_https(request)
        return Response(SessionAnswer(data=view), cookies=[
            Cookie(key=SESSION_COOKIE, value=data.token, path="/", httponly=True, samesite="strict",
                   secure=secure, max_age=max_age),
            Cookie(key=CSRF_COOKIE, value=view.csrf_token, path="/", httponly=False, samesite="strict",
                   secure=secure, max_age=max_age),
        ])

    # authenticated like any API call, so a token whose session ended (signed out, key revoked) is 401
    @get("/", opt={"public": False})
    async def current(self, request: Request[Any, Any, State]) -> SessionAnswer:
        """The signed-in session's tenant, scopes and expiry (never the token); 401 when there is none."""
        token = request.cookies.get(SESSION_COOKIE)
        if not token:
            raise Unauthenticated("not signed in")
        return SessionAnswer(data=_session_view(request.app.state.settings, token))

    @delete("/", status_code=204)
    async def end(self, request: Request[Any, Any, State]) -> Response[None]:
        """Forget this browser's session cookies (the page first ends the token at the API, which is
        what makes a copied cookie useless). Needs the CSRF header like any change."""
        _refuse_cross_site(request)
        if request.cookies.get(SESSION_COOKIE):
            cookie_credential(request)  # the CSRF check
        expired = [Cookie(key=k, value="", path="/", max_age=0, expires=0, samesite="strict",
                          httponly=k == SESSION_COOKIE, secure=_is_https(request))
                   for k in (SESSION_COOKIE, CSRF_COOKIE)]
        return Response(None, status_code=204, cookies=expired)


@get(["/", "/{path:path}"], include_in_schema=False)
async def page(path: str = "") -> File:
    """The portal's HTML shell for every page path; the page's script routes and renders it."""
    if path.startswith("/static/") or path.startswith("static/"):
        raise NotFound("no such file")
    return File(STATIC_DIR / "index.html", content_disposition_type="inline", media_type="text/html")


def portal_router() -> Router:
    """Everything under `/portal`, public to the auth middleware (the API calls it makes are not)."""
    static = create_static_files_router(path="/static", directories=[STATIC_DIR], include_in_schema=False)
    return Router(path=PORTAL_PREFIX, route_handlers=[static, PortalSessionController, page],
                  response_headers=SECURITY_HEADERS, opt={"public": True}, include_in_schema=False)


__all__ = ["CSRF_HEADER", "portal_router"]
