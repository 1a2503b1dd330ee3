"""Serving a Litestar app on a real loopback HTTP server (uvicorn) inside the test's event loop, so
streaming responses arrive as they are produced and a client can really disconnect (httpx's
in-process ASGI transport buffers a whole response)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from litestar import Litestar


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@asynccontextmanager
async def serve_on_loopback(app: Litestar) -> AsyncIterator[str]:
    """`http://127.0.0.1:PORT` serving `app` (start-up and shut-down hooks included) until exit."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on", timeout_graceful_shutdown=2))
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
