"""Liveness, readiness, self-service registration and portal tokens."""

from __future__ import annotations

import time

import msgspec
import psutil
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.middleware import authenticate_connection, forget_session
from api.auth.principal import AuthedRequest
from api.system.metrics import MetricsController
from api.system.password_grant import password_grant
from api.system.schemas import (
    CheckView,
    HealthView,
    LogoutResponse,
    LogoutView,
    MemoryView,
    ReadinessView,
    RegisterBody,
    RegisteredResponse,
    RegisteredView,
    TokenBody,
    TokenResponse,
    TokenView,
)
from api.worker_sessions import run_in_worker_session
from core.errors import Forbidden, InvalidInput
from core.health import readiness
from core.security import sessions
from core.settings import Settings
from core.tenants.emails import checked_email
from core.tenants.service import register
from core.version import VERSION


class HealthController(Controller):
    tags = ["health"]

    @get("/health", operation_id="health", opt={"public": True})
    async def health(self, state: State) -> HealthView:
        """Liveness: the process runs. Checks no dependency."""
        rss = psutil.Process().memory_info().rss
        return HealthView(
            status="healthy",
            version=VERSION,
            uptime=round(time.time() - state.started_at, 1),
            memory=MemoryView(rss_mb=round(rss / 2**20, 1)),
        )

    async def _ready(self, state: State) -> Response[ReadinessView]:
        started = time.perf_counter()
        checks = await readiness(state.settings, state.session_factory)
        ok = all(c.ok for c in checks)
        body = ReadinessView(
            status="ready" if ok else "not_ready",
            checks={
                c.name: CheckView(
                    status="ok" if c.ok else "failed",
                    latency_ms=round(c.latency_ms, 2),
                    error=c.error or msgspec.UNSET,
                )
                for c in checks
            },
            total_latency_ms=round((time.perf_counter() - started) * 1000, 2),
        )
        return Response(body, status_code=200 if ok else 503)

    @get("/health/ready", operation_id="healthReady", opt={"public": True})
    async def health_ready(self, state: State) -> Response[ReadinessView]:
        """Readiness: PostgreSQL and, when configured, Redis and the vector store; 200 or 503."""
        return await self._ready(state)

    @get("/ready", operation_id="ready", opt={"public": True})
    async def ready(self, state: State) -> Response[ReadinessView]:
        """Readiness (alias of /health/ready)."""
        return await self._ready(state)


class RegisterController(Controller):
    tags = ["tenants"]

    @post("/register", operation_id="register", opt={"public": True}, status_code=201)
    async def register(self, request: Request, data: RegisterBody, db_session: AsyncSession) -> RegisteredResponse:
        """Create a tenant with an admin account and a first API key, shown once.

        Limited per client address (`KARIZ_REGISTER_PER_HOUR_LIMIT`, 429) and refused with 403 when
        `KARIZ_OPEN_REGISTRATION=false`; a name already taken (even by a racing sign-up) is 409."""
        request.app.state.registrations.check(request.client.host if request.client else None)
        name, email = data.name.strip(), checked_email(data.email)
        if not name or len(name) > 200:
            raise InvalidInput("name must be 1-200 characters")
        tenant, issued = await run_in_worker_session(db_session, lambda s: register(s, name, email), commit=True)
        return RegisteredResponse(
            data=RegisteredView(api_key=issued.raw, tenant_id=str(tenant.id), scopes=list(issued.key.scopes))
        )


class TokenController(Controller):
    path = "/auth"
    tags = ["auth"]

    # public: the password grant carries no key; a key exchange authenticates in the handler
    @post("/token", operation_id="issueToken", status_code=201, opt={"public": True},
          summary="Exchange an API key (or the asset-manager password) for a portal JWT",
          description="Opens a token session for the calling API key and answers a JWT carrying the key's "
                      "tenant and scopes. The token works only while its session lives: it ends at "
                      "`expiresAt`, on `POST /auth/logout`, or when the key is revoked or expires. A JWT "
                      "cannot mint another token (403). With `{tenantId, password}` and no key, the tenant's "
                      "asset-manager password signs in instead (401 when wrong; 5 failures per 15 minutes "
                      "per tenant, then 429); a password change ends those sessions.")
    async def issue(self, request: AuthedRequest, settings: Settings, db_session: AsyncSession,
                    data: TokenBody | None = None) -> TokenResponse:
        """Exchange an API key, or the tenant's asset-manager password, for a portal JWT."""
        if data is not None and (data.password is not None or data.tenant_id is not None):
            return await password_grant(data, settings, db_session)
        principal = await authenticate_connection(request)
        if principal.via == "jwt" or principal.key_id is None:
            raise Forbidden("a token cannot mint a token: exchange an API key (or sign in) for a new one")
        ttl = (data.ttl_seconds if data else None) or settings.jwt_ttl_seconds
        issued = await run_in_worker_session(
            db_session,
            lambda s: sessions.issue_token(s, principal.tenant_id, kind="key", key_id=principal.key_id,
                                           scopes=sorted(principal.scopes), ttl=ttl),
            commit=True,
        )
        return TokenResponse(TokenView(token=issued.token, token_type="Bearer",
                                       expires_at=issued.expires_at.isoformat(),
                                       session_id=str(issued.session_id)))

    @post("/logout", operation_id="logout", status_code=200,
          summary="Sign out: end the token's session",
          description="Revokes the session of the JWT this request carries; that token (and any other "
                      "token of the session) is refused from then on, in every API process within a few "
                      "seconds. An API key has no session to end (400); revoke a key with "
                      "`DELETE /tenants/{tenantId}/api-keys/{keyId}`.")
    async def logout(self, request: AuthedRequest, db_session: AsyncSession) -> LogoutResponse:
        """End the session of the calling JWT."""
        principal = request.user
        session_id = principal.session_id
        if session_id is None:
            raise InvalidInput("logout ends a token's session; this request carries an API key")
        revoked = await run_in_worker_session(
            db_session, lambda s: sessions.revoke_session(s, principal.tenant_id, session_id), commit=True
        )
        forget_session(session_id)
        return LogoutResponse(LogoutView(session_id=str(session_id), revoked_at=revoked.isoformat()))


ROUTES = [HealthController, RegisterController, TokenController, MetricsController]
