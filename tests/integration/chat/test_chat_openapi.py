"""The served OpenAPI document describes `POST /chat`'s two answers under 200: the event stream,
with the `data:` shape of every event type, and the one-body JSON form."""

from __future__ import annotations

from typing import Any


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


async def test_the_chat_operation_documents_every_event_type_and_the_json_form(client) -> None:
    doc = (await client.get("/api/v1/docs/openapi.json")).json()
    operation = doc["paths"]["/api/v1/chat"]["post"]
    assert "299" not in operation["responses"]  # the carrier status is folded into 200
    content = operation["responses"]["200"]["content"]
    assert set(content) == {"text/event-stream", "application/json"}
    events = _resolve(doc, content["text/event-stream"]["schema"])
    assert list(events["properties"]) == [
        "start",
        "sources",
        "delta",
        "citation",
        "tool_call",
        "tool_result",
        "error",
        "done",
    ]
    shapes = {name: set(_resolve(doc, s)["properties"]) for name, s in events["properties"].items()}
    assert shapes["start"] == {"chatId", "messageId", "model"}
    assert shapes["delta"] == {"text"}
    assert shapes["citation"] == {"n", "assetId", "page"}
    assert shapes["error"] == {"code", "message"}
    assert {"chatId", "messageId", "finishReason", "usage", "citations"} <= shapes["done"]
    items = _resolve(doc, _resolve(doc, events["properties"]["sources"])["properties"]["items"]["items"])
    assert set(items["properties"]) == {"n", "assetId", "fileName", "page", "chunkId", "score", "snippet"}
    answer = _resolve(doc, content["application/json"]["schema"])
    assert {"success", "data"} <= set(answer["properties"])
