"""An ASGI middleware that refuses requests no handler should ever see: a NUL byte in the path or the
query string (raw or percent-encoded) is 400 before routing, authentication or the database."""

from __future__ import annotations

import json
from urllib.parse import unquote_to_bytes

from litestar.types import ASGIApp, Receive, Scope, Send

from api.errors import error_body


def _has_nul(scope: Scope) -> str | None:
    """Which part of the request carries a NUL byte ("path" or "query"), else None."""
    raw_path = scope.get("raw_path") or b""
    if "\x00" in scope.get("path", "") or b"\x00" in raw_path or b"%00" in raw_path:
        return "path"
    query = scope.get("query_string") or b""
    if b"\x00" in query or (b"%" in query and b"\x00" in unquote_to_bytes(query)):
        return "query"
    return None


class InputGuardMiddleware:
    """400 `BAD_REQUEST` for a NUL byte in the path or query string (PostgreSQL text cannot hold one)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            where = _has_nul(scope)
            if where is not None:
                body = json.dumps(error_body(400, f"the request {where} contains a NUL byte")).encode()
                await send({"type": "http.response.start", "status": 400,
                            "headers": [(b"content-type", b"application/json"),
                                        (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
