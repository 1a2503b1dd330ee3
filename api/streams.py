"""SSE responses for Litestar: `sse_response(events)` streams `core.streams.sse` events with the
headers proxies need (`Cache-Control: no-cache`, `X-Accel-Buffering: no`). Validate and authorise
before calling it: once it is returned, the status is 200 and failures are `error` events."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

from litestar.response import Stream

from core.streams.sse import PING_INTERVAL_S, StreamEvent, sse_bytes

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "Connection": "keep-alive"}


def sse_response(events: AsyncIterator[StreamEvent], *, ping_interval: float = PING_INTERVAL_S,
                 headers: Mapping[str, str] | None = None) -> Stream:
    """A `text/event-stream` 200 response carrying `events` (an async generator: only an async
    one sees the client leave)."""
    return Stream(sse_bytes(events, ping_interval=ping_interval), status_code=200,
                  media_type="text/event-stream", headers={**SSE_HEADERS, **(headers or {})})
