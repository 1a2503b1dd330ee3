"""`api.streams.sse_response` through a real HTTP server: headers, events as they are produced,
and a client that disconnects stopping the producer at once."""

from __future__ import annotations

import asyncio

import httpx
from litestar import Litestar, get
from litestar.response import Stream

from api.streams import sse_response
from core.streams.sse import StreamEvent, drain_cancelled_producers, parse_block
from tests.loopback import serve_on_loopback


async def test_events_arrive_live_and_a_disconnect_stops_the_producer() -> None:
    produced: list[int] = []
    stopped = asyncio.Event()

    async def endless():
        try:
            for i in range(100_000):
                produced.append(i)
                yield StreamEvent("delta", {"i": i})
                await asyncio.sleep(0.02)
        finally:
            stopped.set()

    @get("/stream")
    async def stream() -> Stream:
        return sse_response(endless())

    async with serve_on_loopback(Litestar([stream])) as base, httpx.AsyncClient(base_url=base) as http:
        async with http.stream("GET", "/stream") as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            assert response.headers["x-accel-buffering"] == "no"
            assert response.headers["cache-control"] == "no-cache"
            seen = []
            buffer = ""
            async for text in response.aiter_text():
                buffer += text
                while "\n\n" in buffer:
                    block, buffer = buffer.split("\n\n", 1)
                    seen.append(parse_block(block))
                if len(seen) >= 3:
                    break
        # the client has closed the connection after three events
        await asyncio.wait_for(stopped.wait(), timeout=5)
        await drain_cancelled_producers()
        count = len(produced)
        await asyncio.sleep(0.1)
        assert len(produced) == count < 1000
    assert [(i, n, d) for i, n, d in seen] == [(1, "delta", {"i": 0}), (2, "delta", {"i": 1}), (3, "delta", {"i": 2})]
