"""The served OpenAPI document: summaries from handler docstrings, the shared error body as one
component used by every operation's 4XX and 5XX responses, and request bodies a handler reads
itself (declared with `opt={"request_body": RequestBody(...)}`).

`tests/integration/api/test_openapi.py` walks the served document: every operation has a summary
and a description, every JSON 2xx response a typed schema, every operation the error body."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIMediaType,
    OpenAPIResponse,
    Reference,
    RequestBody,
    Schema,
)
from litestar.openapi.spec.enums import OpenAPIType

ERROR_BODY = "ErrorBody"
ERROR_SCHEMA = Schema(
    type=OpenAPIType.OBJECT,
    required=["detail", "success", "error"],
    properties={
        "detail": Schema(type=OpenAPIType.STRING, description="What went wrong (the same text as error.message)."),
        "success": Schema(type=OpenAPIType.BOOLEAN, const=False),
        "error": Schema(
            type=OpenAPIType.OBJECT,
            required=["code", "message"],
            properties={
                "code": Schema(type=OpenAPIType.STRING, description="NOT_FOUND, VALIDATION_ERROR, CONFLICT, ..."),
                "message": Schema(type=OpenAPIType.STRING),
            },
            additional_properties=Schema(description="more facts about the error, e.g. per-row errors"),
        ),
    },
    description="Every error: `detail`, `success: false` and `error {code, message}`.",
)
_ERROR_RESPONSES = {
    "4XX": "The request was refused: bad input (400, 413, 422), no or wrong credentials (401, 403), "
    "not found (404), conflict (409), over quota or rate (402, 429).",
    "5XX": "The server or a service it needs failed (500, 503).",
}
_METHODS = ("get", "put", "post", "delete", "patch")


def summary_of(handler: HTTPRouteHandler) -> str | None:
    """The first sentence of the handler's docstring, for handlers that set no `summary`."""
    doc = (handler.fn.__doc__ or "").strip()
    if not doc:
        return None
    first = doc.split("\n\n", 1)[0].replace("\n", " ").strip()
    return first.split(". ", 1)[0].rstrip(".")


def _handlers(app: Litestar) -> Iterable[HTTPRouteHandler]:
    for route in app.routes:
        yield from getattr(route, "route_handlers", ())


def document(app: Litestar) -> OpenAPI:
    """The app's OpenAPI document with summaries, the error body and handler-declared request
    bodies filled in (the document is built once; the served JSON is rendered from it)."""
    by_operation: dict[str, HTTPRouteHandler] = {}
    for handler in _handlers(app):
        if isinstance(handler.operation_id, str):
            by_operation[handler.operation_id] = handler
    openapi = app.openapi_schema
    openapi.components.schemas = {**(openapi.components.schemas or {}), ERROR_BODY: ERROR_SCHEMA}
    error = Reference(ref=f"#/components/schemas/{ERROR_BODY}")
    for item in (openapi.paths or {}).values():
        for method in _METHODS:
            operation = getattr(item, method, None)
            if operation is None:
                continue
            handler = by_operation.get(operation.operation_id or "")
            if handler is not None and handler.summary is None:
                operation.summary = summary_of(handler) or operation.summary
            responses: dict[str, Any] = dict(operation.responses or {})
            for code in list(responses):
                if code[0] in "45":  # Litestar's own error shape is not what Kariz answers
                    del responses[code]
            for code, description in _ERROR_RESPONSES.items():
                responses[code] = OpenAPIResponse(
                    description=description, content={"application/json": OpenAPIMediaType(schema=error)}
                )
            operation.responses = responses
            body = handler.opt.get("request_body") if handler is not None else None
            if isinstance(body, RequestBody):
                operation.request_body = body
    return openapi
