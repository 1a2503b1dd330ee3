"""`Client` (sync) and `AsyncClient`: the same API surface over httpx, one blocking, one asyncio.

Both inherit every operation from `Endpoints` and build their requests here, in `_ClientCore`; they
differ only in the transport: how a call is sent (with retries) and sleeps, and how a streamed
answer (SSE events, the export download) is read.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TypeVar

import httpx

from kariz.sdk.endpoints import Endpoints
from kariz.sdk.errors import KarizConnectionError
from kariz.sdk.estimates import STREAM_HEADERS, EstimateEvent, SseDecoder, decode_lines
from kariz.sdk.export_flow import Destination, ExportFlow, download_call, open_destination
from kariz.sdk.models import ExportDownload
from kariz.sdk.transport import Call, RetryPolicy, api_base, as_none, parse_response, raise_for_status

T = TypeVar("T")
E = TypeVar("E")

DEFAULT_TIMEOUT = 30.0


def _events_call(path: str, body: dict[str, Any]) -> Call[None]:
    """`POST path` answered as an SSE stream: sent once (a stream is not repeated)."""
    return Call("POST", path, as_none, json=body, headers=STREAM_HEADERS, retry=False)


class _ClientCore(Endpoints):
    """Configuration and request building both clients share."""

    _http_class: type[httpx.Client] | type[httpx.AsyncClient]

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        http_client: httpx.Client | httpx.AsyncClient | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_retry_after: float = 120.0,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.base_url = api_base(base_url)
        self.timeout = timeout
        self.retry_policy = RetryPolicy(
            retries=retries, backoff=backoff, max_backoff=max_backoff, max_retry_after=max_retry_after
        )
        self.headers = {"User-Agent": "kariz-python", "Accept": "application/json", **(headers or {})}
        if api_key:
            self.headers["Authorization"] = f"Bearer {api_key}"
        self._owns_http = http_client is None
        self._http: Any = http_client or self._http_class(timeout=self.timeout)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url!r})"

    def _request(self, call: Call[Any], args: dict[str, Any]) -> httpx.Request:
        """The request of one attempt at `call` (`args` from `call.request_args`)."""
        return self._http.build_request(
            **args, headers={**self.headers, **call.headers}, timeout=call.http_timeout(self.timeout)
        )

    def _delay_after_error(self, call: Call[Any], attempt: int, error: httpx.TransportError) -> float:
        """Seconds to wait before repeating `call` after a transport error; raises when it is not repeated."""
        delay = self.retry_policy.after_error(call, attempt, error)
        if delay is None:
            raise KarizConnectionError(f"{call.method} {call.path}: {error}") from error
        return delay


class Client(_ClientCore):
    """The Kariz API, blocking.

        with Client("http://127.0.0.1:8000", "sk_live_...") as kariz:
            hits = kariz.search("manufacturing", "M8 bolt").results
            kariz.export("manufacturing", format="csv", to="catalog.csv", progress=True)

    `http_client` lets you bring your own `httpx.Client` (proxies, TLS, a test transport); it is
    then yours to close.
    """

    _http_class = httpx.Client

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(self, call: Call[Any], *, stream: bool = False) -> httpx.Response:
        attempt = 0
        while True:
            try:
                with call.request_args(self.base_url) as args:
                    response = self._http.send(self._request(call, args), stream=stream)
            except httpx.TransportError as exc:
                delay = self._delay_after_error(call, attempt, exc)
            else:
                delay = self.retry_policy.after_response(call, attempt, response)
                if delay is None:
                    return response
                response.close()
            time.sleep(delay)
            attempt += 1

    def _call(self, call: Call[T]) -> T:
        return parse_response(call, self._send(call))

    @contextmanager
    def _streamed(self, call: Call[Any]) -> Iterator[httpx.Response]:
        """The streamed response of `call`; an error status raises (its body read) before any byte."""
        response = self._send(call, stream=True)
        try:
            if response.status_code >= 400:
                response.read()
                raise_for_status(response)
            yield response
        finally:
            response.close()

    def _events(self, path: str, tenant_id: str | None, body: Callable[[str], dict[str, Any]],
                convert: Callable[[EstimateEvent], E | None]) -> Iterator[E]:
        with self._streamed(_events_call(path, body(tenant_id or self.tenant().id))) as response:
            for raw in decode_lines(response.iter_lines()):
                if (event := convert(raw)) is not None:
                    yield event

    def _download(self, export_id: str, to: Destination, *, progress: bool, rows: int | None) -> ExportDownload:
        with (self._streamed(download_call(export_id)) as response,
              open_destination(export_id, to, response, progress=progress, rows=rows) as (write, finish)):
            for chunk in response.iter_bytes():
                write(chunk)
            return finish()

    def _export(self, new_flow: Callable[[], ExportFlow]) -> ExportDownload:
        flow = new_flow()
        poll = flow.started(self._call(flow.start()))
        while (wait := flow.next_wait(self._call(poll))) is not None:
            time.sleep(wait)
        assert flow.export_id is not None
        return self._download(flow.export_id, flow.to, progress=flow.progress, rows=flow.rows)


class AsyncClient(_ClientCore):
    """The Kariz API for asyncio: every operation of `Client`, awaited (the streams: `async for`).

    async with AsyncClient("http://127.0.0.1:8000", "sk_live_...") as kariz:
        hits = (await kariz.search("manufacturing", "M8 bolt")).results
    """

    _http_class = httpx.AsyncClient

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _send(self, call: Call[Any], *, stream: bool = False) -> httpx.Response:
        attempt = 0
        while True:
            try:
                with call.request_args(self.base_url) as args:
                    response = await self._http.send(self._request(call, args), stream=stream)
            except httpx.TransportError as exc:
                delay = self._delay_after_error(call, attempt, exc)
            else:
                delay = self.retry_policy.after_response(call, attempt, response)
                if delay is None:
                    return response
                await response.aclose()
            await asyncio.sleep(delay)
            attempt += 1

    async def _call(self, call: Call[T]) -> T:  # type: ignore[override]
        return parse_response(call, await self._send(call))

    @asynccontextmanager
    async def _streamed(self, call: Call[Any]) -> AsyncIterator[httpx.Response]:
        """The streamed response of `call`; see `Client._streamed`."""
        response = await self._send(call, stream=True)
        try:
            if response.status_code >= 400:
                await response.aread()
                raise_for_status(response)
            yield response
        finally:
            await response.aclose()

    async def _events(self, path: str, tenant_id: str | None,  # type: ignore[override]
                      body: Callable[[str], dict[str, Any]],
                      convert: Callable[[EstimateEvent], E | None]) -> AsyncIterator[E]:
        tenant = tenant_id or (await self.tenant()).id
        async with self._streamed(_events_call(path, body(tenant))) as response:
            decoder = SseDecoder()
            async for line in response.aiter_lines():
                raw = decoder.feed(line)
                if raw is not None and (event := convert(raw)) is not None:
                    yield event

    async def _download(self, export_id: str, to: Destination, *, progress: bool,  # type: ignore[override]
                        rows: int | None) -> ExportDownload:
        async with self._streamed(download_call(export_id)) as response:
            with open_destination(export_id, to, response, progress=progress, rows=rows) as (write, finish):
                async for chunk in response.aiter_bytes():
                    write(chunk)
                return finish()

    async def _export(self, new_flow: Callable[[], ExportFlow]) -> ExportDownload:  # type: ignore[override]
        flow = new_flow()
        poll = flow.started(await self._call(flow.start()))
        while (wait := flow.next_wait(await self._call(poll))) is not None:
            await asyncio.sleep(wait)
        assert flow.export_id is not None
        return await self._download(flow.export_id, flow.to, progress=flow.progress, rows=flow.rows)
