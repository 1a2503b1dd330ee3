"""`KARIZ_CHAT_TOOL_CHOICE`: read from the environment into the settings, handed to the `openai`
provider made from them, sent as `tool_choice` on the first round only (after tool results the
model always chooses), never without tools, and refused when it is not auto/required/none."""

from __future__ import annotations

import pydantic
import pytest

from core.chat.provider import ModelRequest, ToolOutcome, ToolSpec
from core.chat.providers import make_chat_model
from core.chat.providers.openai_compatible import OpenAICompatibleChat
from core.settings import Settings

TOOL = ToolSpec("list_collections", "The tenant's collections.", {"type": "object", "properties": {}})
ASK = ModelRequest(system="rules", history=[], question="Which collections do I have?", sources=[], tools=[TOOL])


def _model(monkeypatch: pytest.MonkeyPatch, choice: str | None) -> OpenAICompatibleChat:
    monkeypatch.setenv("KARIZ_CHAT_PROVIDER", "openai")
    monkeypatch.setenv("KARIZ_CHAT_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("KARIZ_CHAT_MODEL", "m")
    if choice is None:
        monkeypatch.delenv("KARIZ_CHAT_TOOL_CHOICE", raising=False)
    else:
        monkeypatch.setenv("KARIZ_CHAT_TOOL_CHOICE", choice)
    model = make_chat_model(Settings())
    assert isinstance(model, OpenAICompatibleChat)
    return model


@pytest.mark.parametrize("choice", ["auto", "required", "none"])
def test_the_setting_is_the_first_rounds_tool_choice(monkeypatch: pytest.MonkeyPatch, choice: str) -> None:
    model = _model(monkeypatch, choice)
    assert model.tool_choice == choice
    body = model.payload(ASK)
    assert body["tool_choice"] == choice and [t["function"]["name"] for t in body["tools"]] == ["list_collections"]
    # after a round of tool results the model chooses (it must be able to answer)
    outcome = ToolOutcome("call_1", "list_collections", {}, True, {"collections": []})
    after = model.payload(ModelRequest(system="rules", history=[], question=ASK.question, sources=[],
                                       tools=[TOOL], tool_rounds=[[outcome]]))
    assert "tool_choice" not in after and after["tools"]
    # a turn without tools (a key without tenant:read) sends neither
    bare = model.payload(ModelRequest(system="rules", history=[], question="hi", sources=[]))
    assert "tools" not in bare and "tool_choice" not in bare


def test_unset_leaves_the_choice_to_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    model = _model(monkeypatch, None)
    assert model.tool_choice is None and "tool_choice" not in model.payload(ASK)


def test_an_unknown_value_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KARIZ_CHAT_TOOL_CHOICE", "always")
    with pytest.raises(pydantic.ValidationError, match="chat_tool_choice"):
        Settings()
