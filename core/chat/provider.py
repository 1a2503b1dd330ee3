"""The `ChatModel` interface every provider implements, and the events a provider streams.

A provider receives the whole turn (system prompt, earlier turns, the question, the numbered
sources and the tools it may call) and streams `TextDelta`s, `ToolCallRequest`s and one `Usage`,
then a `Finish`. When it asks for tools, the caller runs them and calls `stream` again with their
results appended (`ModelRequest.tool_rounds`), so native tool calling (OpenAI-compatible servers)
and rule-based routing (the extractive default) share one loop.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from core.errors import KarizError


class ProviderError(KarizError):
    """The model endpoint failed or timed out (retried before the first token, an `error` event after)."""

    code = "MODEL_ERROR"


@dataclass(frozen=True, slots=True)
class Source:
    """A retrieved chunk as the answer may cite it: `[n]`."""

    n: int
    asset_id: str
    file_name: str
    page: int | None
    chunk_id: str
    score: float
    text: str

    def event_item(self) -> dict[str, Any]:
        """The `sources` event's item (a snippet, not the whole chunk)."""
        snippet = self.text if len(self.text) <= 280 else self.text[:277].rstrip() + "..."
        return {"n": self.n, "assetId": self.asset_id, "fileName": self.file_name, "page": self.page,
                "chunkId": self.chunk_id, "score": round(self.score, 4), "snippet": snippet}


@dataclass(frozen=True, slots=True)
class Turn:
    """An earlier message of the conversation."""

    role: str  # user | assistant
    content: str


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool the model may call, with a JSON-schema of its arguments."""

    name: str
    description: str
    parameters: dict[str, Any]

    def openai(self) -> dict[str, Any]:
        return {"type": "function",
                "function": {"name": self.name, "description": self.description, "parameters": self.parameters}}


@dataclass(frozen=True, slots=True)
class ToolOutcome:
    """A tool call and what it returned."""

    id: str
    name: str
    arguments: dict[str, Any]
    ok: bool
    output: Any


@dataclass(frozen=True, slots=True)
class ModelRequest:
    system: str
    history: list[Turn]
    question: str
    sources: list[Source]
    tools: list[ToolSpec] = field(default_factory=list)
    # the tenant's collection names (tools take one; the prompt names them)
    collections: list[str] = field(default_factory=list)
    tool_rounds: list[list[ToolOutcome]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class ToolCallRequest:
    id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True, slots=True)
class Finish:
    reason: str  # stop | length | tool_calls


ModelEvent = TextDelta | ToolCallRequest | Usage | Finish


class ChatModel(ABC):
    """A chat model that streams a grounded answer, may ask for tools, and counts tokens."""

    name: str = "model"

    @abstractmethod
    def stream(self, request: ModelRequest) -> AsyncIterator[ModelEvent]:
        """The answer as events; cancelling the iteration stops generation at once."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections or model memory (optional)."""
