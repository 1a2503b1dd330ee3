"""The `openai` provider's reading of a streamed completion: `data:` lines split anywhere across
network reads, CRLF or LF line ends, fields it does not read, tool-call pieces, usage, and a last
line without its newline. (The provider against a real server: tests/integration/chat.)"""

from __future__ import annotations

import contextlib
import json
import types
from collections.abc import Iterator
from unittest import mock

import httpx

from core.chat.provider import Finish, ModelRequest, TextDelta, ToolCallRequest, Usage
from core.chat.providers import openai_compatible
from core.chat.providers.openai_compatible import OpenAICompatibleChat

ASK = ModelRequest(system="rules", history=[], question="q", sources=[])


@contextlib.contextmanager
def _no_backoff_waits() -> Iterator[mock.AsyncMock]:
    """The provider's backoff waits recorded instead of slept. Only the provider module's own name
    `asyncio` is replaced: patching `asyncio.sleep` itself also caught every other task of the
    test session's event loop that slept meanwhile (a CI run recorded 43 waits of 0.1 s)."""
    sleep = mock.AsyncMock()
    with mock.patch.object(openai_compatible, "asyncio", types.SimpleNamespace(sleep=sleep)):
        yield sleep


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


def _answer(*words: str) -> bytes:
    lines = [_line({"choices": [{"index": 0, "delta": {"content": w}}]}) for w in words]
    lines.append(_line({"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": len(words)}}))
    return b"\n\n".join([*lines, b"data: [DONE]", b""])


async def test_a_refusal_before_the_first_token_is_retried_with_backoff() -> None:
    """503, then a connection that drops before any text, then the answer: three attempts, the waits
    doubling; the client sees one clean answer."""
    attempts: list[str] = []

    def server(request: httpx.Request) -> httpx.Response:
        attempts.append("x")
        if len(attempts) == 1:
            return httpx.Response(503)
        if len(attempts) == 2:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(200, content=_answer("Five", " days"))

    model = OpenAICompatibleChat("http://model.test/v1", "m", retries=2)
    model._http = httpx.AsyncClient(transport=httpx.MockTransport(server))
    with _no_backoff_waits() as sleep:
        events = await _events(model)
    assert len(attempts) == 3
    assert [c.args[0] for c in sleep.call_args_list] == [0.5, 1.0]
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["Five", " days"]


async def test_retries_end_and_a_failure_after_the_first_token_is_never_retried() -> None:
    import pytest

    from core.chat.provider import ProviderError

    attempts: list[str] = []

    class Breaks(httpx.AsyncByteStream):
        async def __aiter__(self):
            yield (
                _line({"choices": [{"index": 0, "delta": {"content": "Five"}}]}) + b"\n\n"
            )  # the first token ...
            # ... then the connection drops
            raise httpx.ReadError("connection reset")

    def server(request: httpx.Request) -> httpx.Response:
        attempts.append("x")
        return httpx.Response(200, stream=Breaks())

    model = OpenAICompatibleChat("http://model.test/v1", "m", retries=2)
    model._http = httpx.AsyncClient(transport=httpx.MockTransport(server))
    got: list[object] = []
    with pytest.raises(ProviderError):
        async for event in model.stream(ASK):
            got.append(event)
    await model.aclose()
    assert len(attempts) == 1 and [e.text for e in got] == ["Five"]

    always_down = OpenAICompatibleChat("http://model.test/v1", "m", retries=1)
    always_down._http = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(502)))
    with _no_backoff_waits(), pytest.raises(ProviderError):
        await _events(always_down)
