"""Real Server-Sent Events: named events, JSON `data:`, a rising `id:`, a comment ping after a
quiet spell, and a producer that is cancelled the moment the client goes away.

The producer (an async iterator of `StreamEvent`s) runs in its own task and hands events over a
small queue, so a ping can go out while the producer is busy (waiting for a model's first token)
without cancelling it, and so a disconnect cancels the producer at the await it is parked on. A
producer that fails after the stream opened becomes an `error` event followed by `done`: the HTTP
status was sent with the first byte and cannot change any more.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import msgspec

from core.errors import KarizError

log = logging.getLogger(__name__)

PING_INTERVAL_S = 15.0
PING = b": ping\n\n"
_END = object()
_PING = object()  # queued by the ping timer
# tasks still finishing after their consumer left (cancelled producers saving what they had)
_DRAINING: set[asyncio.Task[None]] = set()


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """One event: its name (`start`, `delta`, ...) and a JSON-serialisable payload."""

    event: str
    data: Any


def encode_event(event: StreamEvent, event_id: int) -> bytes:
    """The wire form of one event: `id:`, `event:` and one `data:` line of compact JSON
    (JSON never holds a raw newline, so one data line always suffices)."""
    data = msgspec.json.encode(event.data)
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (event_id, event.event.encode(), data)


def error_payload(exc: BaseException) -> dict[str, str]:
    """The `error` event's `{code, message}` for a failure: domain errors keep their code and message,
    anything else is `INTERNAL_ERROR` with a message that reveals nothing internal."""
    if isinstance(exc, KarizError):
        return {"code": exc.code, "message": exc.message}
    return {"code": "INTERNAL_ERROR", "message": "the stream failed; the failure was logged"}


async def _produce(events: AsyncIterator[StreamEvent], queue: asyncio.Queue[Any]) -> None:
    saw_done = False
    cancelled = False
    try:
        async for item in events:
            saw_done = saw_done or item.event == "done"
            if queue.full():
                await queue.put(item)
            else:
                queue.put_nowait(item)
    except asyncio.CancelledError:
        cancelled = True
        raise
    except Exception as exc:  # after the first byte a failure can only be reported in the stream
        log.exception("stream producer failed")
        await queue.put(StreamEvent("error", error_payload(exc)))
        if not saw_done:
            await queue.put(StreamEvent("done", {"finishReason": "error"}))
    finally:
        # close the producer now (not when it is collected), so its own clean-up runs at once: a
        # cancelled producer is parked at a `yield` its iterator never returns to
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()
        if not cancelled:
            # the reader is still there (one that leaves cancels this task, this wait included):
            # wait for room, or a producer that finished with the queue full loses its end and the
            # stream pings forever
            await queue.put(_END)


class _Pinger:
    """One timer per quiet spell instead of one per event: it fires `interval` after the last
    bytes went out and, if nothing is waiting to be sent, queues a ping. (`asyncio.wait_for` around
    every `queue.get()` made an event's hand-over cost ~25 µs instead of ~10 µs.)"""

    __slots__ = ("_handle", "_interval", "_loop", "_queue", "last")

    def __init__(self, queue: asyncio.Queue[Any], interval: float) -> None:
        self._loop = asyncio.get_running_loop()
        self._queue = queue
        self._interval = interval
        self.last = self._loop.time()  # when bytes last went out; the reader updates it
        self._handle = self._loop.call_at(self.last + interval, self._fire)

    def _fire(self) -> None:
        now = self._loop.time()
        due = self.last + self._interval
        if now >= due - 0.001:  # the loop may run a timer a hair early
            if self._queue.empty():  # otherwise the stream is not quiet: an event is on its way
                self._queue.put_nowait(_PING)
            self.last, due = now, now + self._interval
        self._handle = self._loop.call_at(due, self._fire)

    def touch(self) -> None:
        """Bytes went out just now."""
        self.last = self._loop.time()

    def cancel(self) -> None:
        self._handle.cancel()


async def sse_bytes(
    events: AsyncIterator[StreamEvent], *, ping_interval: float = PING_INTERVAL_S, queue_size: int = 64
) -> AsyncIterator[bytes]:
    """The encoded stream of `events`, ids rising from 1, a `: ping` comment after every
    `ping_interval` seconds without an event. Events already waiting when the reader comes back
    go out together as one chunk (nothing is held back to wait for more). When the consumer stops
    (client disconnect: the server cancels this generator), the producer is cancelled at once; it
    may still finish its own clean-up (e.g. saving a partial answer) in the background."""
    queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=queue_size)
    producer = asyncio.create_task(_produce(events, queue))
    pinger = _Pinger(queue, ping_interval)
    event_id = 0
    try:
        ended = False
        while not ended:
            item = await queue.get()
            if item is _PING:
                yield PING
                continue
            chunks: list[bytes] = []
            while True:
                if item is _END:
                    ended = True
                    break
                if item is not _PING:  # a ping queued just before an event: the event is enough
                    event_id += 1
                    chunks.append(encode_event(item, event_id))
                if queue.empty():
                    break
                item = queue.get_nowait()
            if chunks:
                pinger.touch()
                yield chunks[0] if len(chunks) == 1 else b"".join(chunks)
    finally:
        pinger.cancel()
        if not producer.done():
            producer.cancel()
            # not awaited: the server's cancel scope would cancel the await itself; keep a
            # reference so the task finishes its clean-up instead of being collected
            _DRAINING.add(producer)
            producer.add_done_callback(_DRAINING.discard)


async def drain_cancelled_producers(timeout: float = 5.0) -> None:
    """Wait (up to `timeout`) for producers cancelled by a disconnect to finish their clean-up;
    for orderly shut-down and for tests that check what was saved."""
    pending = [t for t in _DRAINING if not t.done()]
    if pending:
        await asyncio.wait(pending, timeout=timeout)


def parse_sse(text: str) -> list[tuple[int | None, str, Any]]:
    """`(id, event, data)` for each event in an SSE text (comments skipped); the reader used by the
    SDK and the tests."""
    out: list[tuple[int | None, str, Any]] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        parsed = parse_block(block)
        if parsed is not None:
            out.append(parsed)
    return out


def parse_block(block: str) -> tuple[int | None, str, Any] | None:
    """One event block (the lines between blank lines); None for a comment-only block."""
    event_id: int | None = None
    name = "message"
    data_lines: list[str] = []
    for line in block.split("\n"):
        if not line or line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "id":
            event_id = int(value) if value.isdigit() else None
        elif field == "event":
            name = value
        elif field == "data":
            data_lines.append(value)
    if not data_lines and event_id is None:
        return None
    raw = "\n".join(data_lines)
    try:
        data = msgspec.json.decode(raw) if raw else None
    except msgspec.DecodeError:
        data = raw
    return event_id, name, data
