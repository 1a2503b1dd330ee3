"""schemathesis hooks for `.ci/schemathesis`.

`success_schema_conformance` checks every 2xx response against its documented schema. Error
responses are left to the built-in `response_schema_conformance` once the OpenAPI document describes
Kariz's error body (issue 11); until then this is the documented exclusion: error bodies are not
schema-checked, while every 5xx still fails through `not_a_server_error`.

`KNOWN_SCHEMA_GAPS` lists 2xx answers known not to match their documented schema, each reported to
its owner; they are still checked for 5xx. Remove an entry once its answer matches.
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
    """A 2xx body that does not match the operation's documented response schema fails."""
    if response.status_code >= 400 or f"{case.method.upper()} {case.path}" in KNOWN_SCHEMA_GAPS:
        return None
    return response_schema_conformance(ctx, response, case)
