"""The served OpenAPI document describes every operation: a summary and a description, a typed
schema for every JSON success response, the shared error body for 4XX/5XX, and the request body of
`POST /ingest/{collection}`. New areas pass this test when they land."""

from __future__ import annotations

from typing import Any

import httpx

V1 = "/api/v1"
METHODS = ("get", "put", "post", "delete", "patch")


async def _document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get(f"{V1}/docs/openapi.json")
    assert response.status_code == 200
    return response.json()


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m, p, op) for p, item in doc["paths"].items() for m, op in item.items() if m in METHODS]


def _resolve(doc: dict[str, Any], schema: dict[str, Any] | None) -> dict[str, Any]:
    schema = schema or {}
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _typed(doc: dict[str, Any], schema: dict[str, Any] | None) -> bool:
    """A schema that says what the body holds: an object with properties, an array of typed items,
    a union of typed schemas, or a scalar type. A free-form object (`dict[str, Any]`) is not."""
    schema = _resolve(doc, schema)
    for union in ("oneOf", "anyOf", "allOf"):
        if union in schema:
            return all(_typed(doc, s) for s in schema[union] if _resolve(doc, s).get("type") != "null")
    kind = schema.get("type")
    if kind == "object":
        return bool(schema.get("properties"))
    if kind == "array":
        return _typed(doc, schema.get("items"))
    return kind is not None


async def test_every_operation_has_a_summary_and_a_description(client: httpx.AsyncClient) -> None:
    doc = await _document(client)
    # Litestar invents a summary from the function name ("ListAll") when a handler gives none
    missing = [
        f"{m.upper()} {p}"
        for m, p, op in _operations(doc)
        if " " not in (op.get("summary") or "") or not (op.get("description") or "").strip()
    ]
    assert missing == []


async def test_every_json_success_response_has_a_typed_schema(client: httpx.AsyncClient) -> None:
    doc = await _document(client)
    untyped = []
    for method, path, op in _operations(doc):
        for code, response in op["responses"].items():
            if not code.startswith("2") or code == "204":
                continue
            content = response.get("content") or {}
            assert content, f"{method.upper()} {path} {code} declares no content"
            for media, body in content.items():
                if media == "application/json" and not _typed(doc, body.get("schema")):
                    untyped.append(f"{method.upper()} {path} {code}")
    assert untyped == []


async def test_errors_are_documented_as_the_shared_error_body(client: httpx.AsyncClient) -> None:
    doc = await _document(client)
    body = doc["components"]["schemas"]["ErrorBody"]
    assert set(body["required"]) == {"detail", "success", "error"}
    assert set(body["properties"]["error"]["required"]) == {"code", "message"}
    for method, path, op in _operations(doc):
        for code in ("4XX", "5XX"):
            schema = op["responses"][code]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorBody"}, f"{method.upper()} {path} {code}"
        # Litestar's own error shape (status_code, detail, extra) is never what Kariz answers
        assert not [c for c in op["responses"] if c[0] in "45" and c not in ("4XX", "5XX")], f"{method} {path}"


async def test_ingesting_records_documents_its_request_body(client: httpx.AsyncClient) -> None:
    doc = await _document(client)
    body = doc["paths"][f"{V1}/ingest/{{collection}}"]["post"]["requestBody"]
    schema = _resolve(doc, body["content"]["application/json"]["schema"])
    assert schema["type"] == "array"
    assert _typed(doc, schema["items"])
