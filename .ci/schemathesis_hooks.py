"""schemathesis hooks for `.ci/schemathesis`.

`success_schema_conformance` checks every response, errors included, against its documented schema
(the OpenAPI document describes Kariz's error body, `ErrorBody`, on every 4xx/5xx), while every 5xx
also fails through `not_a_server_error`.

`KNOWN_SCHEMA_GAPS` lists answers known not to match their documented schema; they are still
checked for 5xx. Remove an entry once its answer matches.
"""

from __future__ import annotations

import schemathesis
from schemathesis.specs.openapi.checks import response_schema_conformance

KNOWN_SCHEMA_GAPS = {
    # an SSE event of the chat stream does not match its documented event schema (chat)
    "POST /api/v1/chat",
}


@schemathesis.check
def success_schema_conformance(ctx, response, case):  # noqa: ANN001, ANN201 - schemathesis' check signature
    """A body that does not match the operation's documented response schema fails."""
    if f"{case.method.upper()} {case.path}" in KNOWN_SCHEMA_GAPS:
        return None
    return response_schema_conformance(ctx, response, case)
