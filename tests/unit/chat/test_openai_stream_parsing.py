"""The `openai` provider's reading of a streamed completion: `data:` lines split anywhere across
network reads, CRLF or LF line ends, fields it does not read, tool-call pieces, usage, and a last
line without its newline. (The provider against a real server: tests/integration/chat.)"""

from __future__ import annotations

import json

import httpx

from core.chat.provider import Finish, ModelRequest, TextDelta, ToolCallRequest, Usage
from core.chat.providers.openai_compatible import OpenAICompatibleChat

ASK = ModelRequest(system="rules", history=[], question="q", sources=[])


def _line(payload: dict) -> bytes:
    extra = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "timings": {"predicted_ms": 1.5},
    }
    return b"data: " + json.dumps({**extra, **payload}).encode()


def _model(body: bytes, pieces: int) -> OpenAICompatibleChat:
    """A provider whose server answers `body` cut into reads of `pieces` bytes."""

    class Split(httpx.AsyncByteStream):
        async def __aiter__(self):
            for i in range(0, len(body), pieces):
                yield body[i : i + pieces]

    model = OpenAICompatibleChat("http://model.test/v1", "m")
    model._http = httpx.AsyncClient(
        transport=httpx.MockTransport(
            lambda request: httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=Split())
        )
    )
    return model


async def _events(model: OpenAICompatibleChat) -> list[object]:
    try:
        return [event async for event in model.stream(ASK)]
    finally:
        await model.aclose()


async def test_text_and_usage_survive_any_split_and_either_line_end() -> None:
    words = ["Refunds", " take", " five", " días", " [1]."]
    for end in (b"\n\n", b"\r\n\r\n"):
        body = b": keep-alive" + end
        body += b"".join(
            _line({"choices": [{"index": 0, "delta": {"content": w}, "finish_reason": None}]}) + end
            for w in words
        )
        body += _line({"choices": [{"index": 0, "delta": {}, "finish_reason": "length"}]}) + end
        body += _line({"choices": [], "usage": {"prompt_tokens": 30, "completion_tokens": 5}}) + end
        body += b"data: [DONE]" + end
        for pieces in (1, 7, 64, len(body)):
            events = await _events(_model(body, pieces))
            assert [e.text for e in events if isinstance(e, TextDelta)] == words, (end, pieces)
            assert events[-2:] == [Usage(30, 5), Finish("length")], (end, pieces)


async def test_tool_call_pieces_are_joined_and_a_last_line_without_newline_is_read() -> None:
    body = b"\n\n".join(
        [
            _line(
                {
                    "choices": [
                        {
                            "index": 0,
                            "delta": {
                                "tool_calls": [
                                    {
                                        "index": 0,
                                        "id": "call_7",
                                        "type": "function",
                                        "function": {"name": "search_", "arguments": '{"coll'},
                                    }
                                ]
                            },
                        }
                    ]
                }
            ),
            _line(
                {
                    "choices": [
                        {
                            "index": 0,
                            "delta": {
                                "tool_calls": [
                                    {
                                        "index": 0,
                                        "function": {"name": "records", "arguments": 'ection": "parts"}'},
                                    }
                                ]
                            },
                        }
                    ]
                }
            ),
            _line(
                {
                    "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}],
                    "usage": {"prompt_tokens": 12, "completion_tokens": 9},
                }
            ),
        ]
    )  # no [DONE], no final newline: the server closed the stream
    for pieces in (3, len(body)):
        events = await _events(_model(body, pieces))
        assert events == [
            ToolCallRequest("call_7", "search_records", {"collection": "parts"}),
            Usage(12, 9),
            Finish("tool_calls"),
        ]
