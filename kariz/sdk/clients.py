"""`Client` (sync) and `AsyncClient`: the same API surface over httpx, one blocking, one asyncio.

Both inherit every operation from `Endpoints`; they differ only in how a call is sent (with retries),
how they sleep, and how the export download is streamed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any, TypeVar

import httpx

from kariz.sdk.chat import CHAT_PATH, ChatEvent, chat_body, to_chat_event
from kariz.sdk.endpoints import Endpoints
from kariz.sdk.errors import KarizConnectionError
from kariz.sdk.estimates import (
    ANALYZE_PATH,
    STREAM_HEADERS,
    EstimateEvent,
    ImageSource,
    SseDecoder,
    analyze_body,
    decode_lines,
)
from kariz.sdk.export_flow import Destination, ExportFlow, download_call, open_destination
from kariz.sdk.models import ExportDownload
from kariz.sdk.transport import Call, RetryPolicy, api_base, parse_response, raise_for_status

T = TypeVar("T")

DEFAULT_TIMEOUT = 30.0


class _ClientCore(Endpoints):
    """Configuration both clients share."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
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

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url!r})"


class Client(_ClientCore):
    """The Kariz API, blocking.

        with Client("http://127.0.0.1:8000", "sk_live_...") as kariz:
            hits = kariz.search("manufacturing", "M8 bolt").results
            kariz.export("manufacturing", format="csv", to="catalog.csv", progress=True)

    `http_client` lets you bring your own `httpx.Client` (proxies, TLS, a test transport); it is
    then yours to close.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        http_client: httpx.Client | None = None,
        **options: Any,
    ) -> None:
        super().__init__(base_url, api_key, **options)
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(timeout=self.timeout)

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
                    request = self._http.build_request(**args, headers=self.headers,
                                                       timeout=call.http_timeout(self.timeout))
                    response = self._http.send(request, stream=stream)
            except httpx.TransportError as exc:
                delay = self.retry_policy.after_error(call, attempt, exc)
                if delay is None:
                    raise KarizConnectionError(f"{call.method} {call.path}: {exc}") from exc
            else:
                delay = self.retry_policy.after_response(call, attempt, response)
                if delay is None:
                    return response
                response.close()
            time.sleep(delay)
            attempt += 1

    def _call(self, call: Call[T]) -> T:
        return parse_response(call, self._send(call))

    def estimate(self, images: Iterable[ImageSource], *, tenant_id: str | None = None, notes: str | None = None,
                 keep_images: bool = False) -> Iterator[EstimateEvent]:
        """POST /estimator/analyze: the estimate's events as they arrive (`start`, `image` per photo,
        `item` per distinct item, `summary`, `done`). Photos are bytes, file paths or data URLs;
        `tenant_id` defaults to the caller's own. A refused request raises before any event."""
        body = analyze_body(images, tenant_id or self.tenant().id, notes=notes, keep_images=keep_images)
        yield from self._events(ANALYZE_PATH, body)

    def chat(self, message: str, *, tenant_id: str | None = None, account_id: str | None = None,
             files: list[str] | None = None, prompt: str | None = None,
             chat_id: str | None = None) -> Iterator[ChatEvent]:
        """POST /chat: the grounded answer's typed events as they arrive (`ChatStart`, `ChatSources`,
        `ChatDelta`..., `ChatCitation`, `ChatToolCall`/`ChatToolResult`, `ChatError`, `ChatDone`).
        `tenant_id` defaults to the caller's own; `chat_id` continues a conversation. A refused
        request (bad input, quota) raises before any event."""
        body = chat_body(message, tenant_id or self.tenant().id, account_id=account_id, files=files,
                         prompt=prompt, chat_id=chat_id)
        for raw in self._events(CHAT_PATH, body):
            event = to_chat_event(raw.event, raw.data)
            if event is not None:
                yield event

    def _events(self, path: str, body: dict[str, Any]) -> Iterator[EstimateEvent]:
        """The SSE events of `POST path` as they arrive; an error status raises before any."""
        request = self._http.build_request("POST", self.base_url + path, json=body,
                                           headers={**self.headers, **STREAM_HEADERS}, timeout=self.timeout)
        try:
            response = self._http.send(request, stream=True)
        except httpx.TransportError as exc:
            raise KarizConnectionError(f"POST {path}: {exc}") from exc
        try:
            if response.status_code >= 400:
                response.read()
                raise_for_status(response)
            yield from decode_lines(response.iter_lines())
        finally:
            response.close()

    def download_export(
        self, export_id: str, to: Destination = None, *, progress: bool = False, rows: int | None = None
    ) -> ExportDownload:
        """Stream a completed export to `to` (path, directory, binary file, or None for the working
        directory). ConflictError while it is still processing."""
        response = self._send(download_call(export_id), stream=True)
        try:
            if response.status_code >= 400:
                response.read()
                raise_for_status(response)
            with open_destination(export_id, to, response, progress=progress, rows=rows) as (write, finish):
                for chunk in response.iter_bytes():
                    write(chunk)
                return finish()
        finally:
            response.close()

    def export(
        self,
        collection: str,
        *,
        format: str = "csv",
        status: str = "active",
        to: Destination = None,
        progress: bool = False,
        poll_interval: float = 1.0,
        timeout: float | None = 3600.0,
    ) -> ExportDownload:
        """Start an export, wait for it, and stream the file to `to`, in one call.

        Raises ExportFailedError (with the server's reason) if the export fails or expires, and
        KarizTimeoutError if it is still processing after `timeout` seconds.
        """
        flow = ExportFlow(
            collection,
            format=format,
            status=status,
            to=to,
            progress=progress,
            poll_interval=poll_interval,
            timeout=timeout,
        )
        poll = flow.started(self._call(flow.start()))
        while (wait := flow.next_wait(self._call(poll))) is not None:
            time.sleep(wait)
        assert flow.export_id is not None
        return self.download_export(flow.export_id, to, progress=progress, rows=flow.rows)


class AsyncClient(_ClientCore):
    """The Kariz API for asyncio: every operation of `Client`, awaited.

    async with AsyncClient("http://127.0.0.1:8000", "sk_live_...") as kariz:
        hits = (await kariz.search("manufacturing", "M8 bolt")).results
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        http_client: httpx.AsyncClient | None = None,
        **options: Any,
    ) -> None:
        super().__init__(base_url, api_key, **options)
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(timeout=self.timeout)

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
                    request = self._http.build_request(**args, headers=self.headers,
                                                       timeout=call.http_timeout(self.timeout))
                    response = await self._http.send(request, stream=stream)
            except httpx.TransportError as exc:
                delay = self.retry_policy.after_error(call, attempt, exc)
                if delay is None:
                    raise KarizConnectionError(f"{call.method} {call.path}: {exc}") from exc
            else:
                delay = self.retry_policy.after_response(call, attempt, response)
                if delay is None:
                    return response
                await response.aclose()
            await asyncio.sleep(delay)
            attempt += 1

    async def _call(self, call: Call[T]) -> T:  # type: ignore[override]
        return parse_response(call, await self._send(call))

    async def estimate(self, images: Iterable[ImageSource], *, tenant_id: str | None = None,
                       notes: str | None = None, keep_images: bool = False) -> AsyncIterator[EstimateEvent]:
        """The estimate's events as they arrive; see `Client.estimate`."""
        body = analyze_body(images, tenant_id or (await self.tenant()).id, notes=notes, keep_images=keep_images)
        async for event in self._events(ANALYZE_PATH, body):
            yield event

    async def chat(self, message: str, *, tenant_id: str | None = None, account_id: str | None = None,
                   files: list[str] | None = None, prompt: str | None = None,
                   chat_id: str | None = None) -> AsyncIterator[ChatEvent]:
        """The grounded answer's typed events as they arrive; see `Client.chat`."""
        body = chat_body(message, tenant_id or (await self.tenant()).id, account_id=account_id, files=files,
                         prompt=prompt, chat_id=chat_id)
        async for raw in self._events(CHAT_PATH, body):
            event = to_chat_event(raw.event, raw.data)
            if event is not None:
                yield event

    async def _events(self, path: str, body: dict[str, Any]) -> AsyncIterator[EstimateEvent]:
        """The SSE events of `POST path` as they arrive; see `Client._events`."""
        request = self._http.build_request("POST", self.base_url + path, json=body,
                                           headers={**self.headers, **STREAM_HEADERS}, timeout=self.timeout)
        try:
            response = await self._http.send(request, stream=True)
        except httpx.TransportError as exc:
            raise KarizConnectionError(f"POST {path}: {exc}") from exc
        try:
            if response.status_code >= 400:
                await response.aread()
                raise_for_status(response)
            decoder = SseDecoder()
            async for line in response.aiter_lines():
                event = decoder.feed(line)
                if event is not None:
                    yield event
        finally:
            await response.aclose()

    async def download_export(
        self, export_id: str, to: Destination = None, *, progress: bool = False, rows: int | None = None
    ) -> ExportDownload:
        """Stream a completed export to `to`; see `Client.download_export`."""
        response = await self._send(download_call(export_id), stream=True)
        try:
            if response.status_code >= 400:
                await response.aread()
                raise_for_status(response)
            with open_destination(export_id, to, response, progress=progress, rows=rows) as (write, finish):
                async for chunk in response.aiter_bytes():
                    write(chunk)
                return finish()
        finally:
            await response.aclose()

    async def export(
        self,
        collection: str,
        *,
        format: str = "csv",
        status: str = "active",
        to: Destination = None,
        progress: bool = False,
        poll_interval: float = 1.0,
        timeout: float | None = 3600.0,
    ) -> ExportDownload:
        """Start an export, wait for it, and stream the file to `to`; see `Client.export`."""
        flow = ExportFlow(
            collection,
            format=format,
            status=status,
            to=to,
            progress=progress,
            poll_interval=poll_interval,
            timeout=timeout,
        )
        poll = flow.started(await self._call(flow.start()))
        while (wait := flow.next_wait(await self._call(poll))) is not None:
            await asyncio.sleep(wait)
        assert flow.export_id is not None
        return await self.download_export(flow.export_id, to, progress=progress, rows=flow.rows)
