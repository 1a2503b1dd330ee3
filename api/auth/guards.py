"""Scope guards: small `async (connection, handler) -> None` functions that raise Forbidden."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from api.auth.principal import Principal
from core.errors import Forbidden, NotFound

Guard = Callable[[ASGIConnection, BaseRouteHandler], Awaitable[None]]


def requires_scope(scope: str) -> Guard:
    """A guard that lets through callers whose key or token grants `scope`."""

    # async: Litestar runs a sync guard in a worker thread, a thread hand-off on every request
    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        if connection.scope.get("method") == "OPTIONS":
            return  # Litestar's automatic OPTIONS answer (204 + Allow) needs no caller and reveals nothing
        principal: Principal = connection.user
        if not principal.allows(scope):
            raise Forbidden(f"this operation needs the '{scope}' scope")

    guard.__name__ = f"requires_{scope.replace(':', '_')}"
    return guard


def own_tenant(principal: Principal, tenant_id: uuid.UUID) -> None:
    """Callers act on their own tenant only (operators on any)."""
    if principal.tenant_id != tenant_id and not principal.is_system:
        raise Forbidden("this tenant does not belong to you")


def own_account(principal: Principal, account_id: uuid.UUID) -> None:
    """A member's or viewer's credential reaches its own account only: another account of the
    tenant answers 404, as an unknown one does (its existence is not revealed)."""
    bound = principal.bound_account
    if bound is not None and bound != account_id:
        raise NotFound(f"account {account_id} not found")
