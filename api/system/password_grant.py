"""The password grant of `POST /auth/token`: `{tenantId, password}` -> a portal JWT for the tenant,
opened as a password session of the tenant's asset-manager account (its first enabled admin)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from api.system.schemas import TokenBody, TokenResponse, TokenView
from api.worker_sessions import run_in_worker_session
from core.accounts import asset_password
from core.accounts.roles import ROLE_SCOPES
from core.db.models import Role
from core.errors import InvalidInput, Unauthenticated
from core.security import sessions
from core.settings import Settings

#: what an asset-manager sign-in may do: read and write the tenant's files and store, no key management
PASSWORD_SCOPES = sorted(ROLE_SCOPES[Role.MEMBER])


async def password_grant(data: TokenBody, settings: Settings, db_session: AsyncSession) -> TokenResponse:
    """A JWT for the tenant whose asset-manager password `data.password` is; Unauthenticated (401) when
    it is not (counted), RateLimited (429) after 5 failures in 15 minutes."""
    if data.tenant_id is None or not data.password:
        raise InvalidInput("the password grant needs tenantId and password")
    tenant_id, password = data.tenant_id, data.password
    ttl = data.ttl_seconds or settings.jwt_ttl_seconds

    def work(s):
        account = asset_password.sign_in(s, tenant_id, password)
        if account is None:
            return None
        return sessions.issue_token(s, tenant_id, kind="password", account_id=account.id, scopes=PASSWORD_SCOPES,
                                    ttl=ttl)

    issued = await run_in_worker_session(db_session, work, commit=True)  # a failure is committed as counted
    if issued is None:
        raise Unauthenticated("wrong tenant or password")
    return TokenResponse(TokenView(token=issued.token, token_type="Bearer", expires_at=issued.expires_at.isoformat(),
                                   session_id=str(issued.session_id)))
