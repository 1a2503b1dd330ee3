"""Run asyncio drivers (asyncpg, asyncmy) behind the synchronous connector interface.

Dagster ops are synchronous, and the API may call a connector from inside its own event loop, so
the async side always runs on a private event loop in a helper thread; the caller's thread only
waits for one batch at a time. Closing the returned iterator closes the async generator (and with
it the driver's connection) on that loop before the loop stops.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

_DONE = object()
CLOSE_TIMEOUT_S = 30.0


class _LoopThread:
    """A fresh event loop running in a daemon thread until `stop()`."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="kariz-connector-loop", daemon=True
        )
        self._thread.start()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        return self.submit(coro).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()


def run_coroutine(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` to completion on a private loop and return its result (or raise its exception)."""
    runner = _LoopThread()
    try:
        return runner.run(coro)
    finally:
        runner.stop()


async def _next_or_done(agen: AsyncIterator[T]) -> Any:
    try:
        return await agen.__anext__()
    except StopAsyncIteration:
        return _DONE


def iterate_async(agen: AsyncIterator[T]) -> Iterator[T]:
    """A synchronous iterator over the async generator `agen`.

    One item is read ahead: while the caller works on item n, the loop thread already fetches
    item n+1 (the driver waits on the network without holding the GIL), so reading and
    converting overlap. Never more than one item is buffered.
    """
    runner = _LoopThread()
    pending: concurrent.futures.Future[Any] | None = None
    try:
        pending = runner.submit(_next_or_done(agen))
        while True:
            item = pending.result()
            if item is _DONE:
                pending = None
                return
            pending = runner.submit(_next_or_done(agen))
            yield item
    finally:
        try:
            if pending is not None and not pending.done():
                # let the read-ahead finish (or give up on it) before closing the generator
                try:
                    pending.result(CLOSE_TIMEOUT_S)
                except Exception:  # its error (if any) no longer matters: the caller stopped
                    pending.cancel()
            aclose = getattr(agen, "aclose", None)
            if aclose is not None:
                runner.run(aclose(), timeout=CLOSE_TIMEOUT_S)
        finally:
            runner.stop()
