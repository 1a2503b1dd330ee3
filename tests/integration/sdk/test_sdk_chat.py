"""`client.chat(...)` against the real API over HTTP: typed events as they arrive (sync and async),
the history and deleting a chat."""

from __future__ import annotations

import pytest

import kariz
from kariz.sdk.chat import ChatCitation, ChatDelta, ChatDone, ChatSources, ChatStart
from kariz.sdk.errors import APIError
from tests.integration.chat.documents import RETURNS, add_document_sync


def test_chat_yields_typed_events_and_the_history_keeps_the_chat(api_url: str, registered) -> None:
    add_document_sync(api_url, registered.api_key, "returns.txt", RETURNS)
    with kariz.Client(api_url, registered.api_key) as client:
        events = list(client.chat("How long do refunds take?"))
        assert isinstance(events[0], ChatStart) and isinstance(events[1], ChatSources)
        assert isinstance(events[-1], ChatDone) and events[-1].usage.total_tokens > 0
        answer = "".join(e.text for e in events if isinstance(e, ChatDelta))
        assert "five business days [1]" in answer
        assert [e for e in events if isinstance(e, ChatCitation)] == events[-1].citations
        chat_id = events[0].chat_id
        history = client.chat_history()
        assert [c["chatId"] for c in history["data"]] == [chat_id] and history["pagination"]["total"] == 1
        assert len(client.get_chat(chat_id)["messages"]) == 2
        assert client.delete_chat(chat_id) == {"chatId": chat_id, "deleted": True}
        assert client.chat_history()["data"] == []
        with pytest.raises(APIError) as caught:
            list(client.chat(""))
        assert caught.value.status == 400


async def test_async_client_chat(api_url: str, registered) -> None:
    async with kariz.AsyncClient(api_url, registered.api_key) as client:
        kinds = [type(e).__name__ async for e in client.chat("anything about zebras?")]
    assert kinds[0] == "ChatStart" and kinds[-1] == "ChatDone" and "ChatCitation" not in kinds


def test_cli_chat_prints_the_answer_then_its_sources(api_url: str, registered) -> None:
    from click.testing import CliRunner

    from kariz.cli import main

    add_document_sync(api_url, registered.api_key, "returns.txt", RETURNS)
    result = CliRunner().invoke(main, ["chat", registered.tenant_id, "How long do refunds take?", "--url", api_url,
                                       "--api-key", registered.api_key], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "five business days [1]" in result.output
    assert result.output.rstrip().endswith("Sources:\n  [1] returns.txt")
