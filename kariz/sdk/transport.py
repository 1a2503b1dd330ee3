"""What the sync and async clients share: how a call is described, how a request is built, how a
response is parsed or turned into an exception, and when to retry. No I/O happens here."""

from __future__ import annotations

import io
import random
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Generic, TypeVar

import httpx
from pydantic import BaseModel

from kariz.sdk.errors import error_for
from kariz.sdk.retry_after import parse_retry_after

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

API_PREFIX = "/api/v1"
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
RETRY_STATUSES = frozenset({429, 503})
FileSource = str | Path | bytes | IO[bytes]


def api_base(base_url: str) -> str:
    """`base_url` with the `/api/v1` prefix exactly once and no trailing slash."""
    base = base_url.rstrip("/")
    return base if base.endswith(API_PREFIX) else base + API_PREFIX


# ------------------------------------------------------------------ uploads


@dataclass(frozen=True)
class Upload:
    """A file to send as multipart field `file`; reopened (or rewound) for every attempt."""

    source: FileSource
    filename: str | None = None
    content_type: str | None = None

    @contextmanager
    def open(self) -> Iterator[tuple[str, IO[bytes], str]]:
        content_type = self.content_type or "application/octet-stream"
        if isinstance(self.source, bytes):
            yield self.filename or "upload", io.BytesIO(self.source), content_type
        elif isinstance(self.source, str | Path):
            path = Path(self.source)
            with open(path, "rb") as f:
                yield self.filename or path.name, f, content_type
        else:
            f = self.source
            start = f.tell() if f.seekable() else None
            name = self.filename or Path(str(getattr(f, "name", "upload"))).name
            yield name, f, content_type
            if start is not None:
                f.seek(start)


# ------------------------------------------------------------------ calls


@dataclass(frozen=True)
class Call(Generic[T]):
    """One API operation: the request to make and how to read its answer."""

    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    params: Mapping[str, Any] | None = None
    json: Any = None
    upload: Upload | None = None
    ok_statuses: frozenset[int] = field(default_factory=frozenset)
    retry: bool = True
    timeout: float | None = None  # this call's HTTP timeout, when longer than the client's
    headers: Mapping[str, str] = field(default_factory=dict)  # beside the client's own

    def http_timeout(self, default: float) -> float:
        """The HTTP timeout for this call: its own when it needs longer than `default`."""
        return max(default, self.timeout or 0.0)

    @property
    def idempotent(self) -> bool:
        return self.method in IDEMPOTENT

    @contextmanager
    def request_args(self, base: str) -> Iterator[dict[str, Any]]:
        """Keyword arguments for `httpx.Client.build_request`, with any upload open."""
        args: dict[str, Any] = {"method": self.method, "url": base + self.path}
        if self.params:
            args["params"] = clean_params(self.params)
        if self.json is not None:
            args["json"] = self.json
        with ExitStack() as stack:
            if self.upload is not None:
                args["files"] = {"file": stack.enter_context(self.upload.open())}
            yield args


def clean_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Query parameters without the unset ones, booleans spelled true/false."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        out[key] = ("true" if value else "false") if isinstance(value, bool) else value
    return out


# ------------------------------------------------------------------ responses


def payload(response: httpx.Response) -> Any:
    """The response's JSON, unwrapped from a `{"success": true, "data": ...}` envelope; None if empty."""
    if response.status_code == 204 or not response.content:
        return None
    body = response.json()
    if isinstance(body, dict) and body.get("success") is True and "data" in body:
        return body["data"]
    return body


def as_model(model: type[M]) -> Callable[[httpx.Response], M]:
    return lambda response: model.model_validate(payload(response))


def as_models(model: type[M], key: str | None = None) -> Callable[[httpx.Response], list[M]]:
    """A list of `model`; the list may be the body itself or sit under `key` (or `items`, `data`)."""

    def parse(response: httpx.Response) -> list[M]:
        body = payload(response)
        if isinstance(body, dict):
            for name in (key, "items", "data", "results"):
                if name and isinstance(body.get(name), list):
                    body = body[name]
                    break
        return [model.model_validate(item) for item in body or []]

    return parse


def as_none(response: httpx.Response) -> None:
    return None


def as_json(response: httpx.Response) -> Any:
    return payload(response)


def raise_for_status(response: httpx.Response, ok: frozenset[int] = frozenset()) -> None:
    """Raise the SDK's exception for an error status (the body must have been read)."""
    if response.status_code < 400 or response.status_code in ok:
        return
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    raise error_for(response.status_code, body, dict(response.headers), response.text)


def parse_response(call: Call[T], response: httpx.Response) -> T:
    """The typed result of `call`, or the exception its error response means."""
    raise_for_status(response, call.ok_statuses)
    return call.parse(response)


# ------------------------------------------------------------------ retries


@dataclass(frozen=True)
class RetryPolicy:
    """Retries on 429 and 503 (honouring `Retry-After`) and on broken connections.

    `retries` is how many times a call is repeated after its first attempt. Without `Retry-After`,
    waits grow exponentially from `backoff` up to `max_backoff`, with jitter. A server asking for
    more than `max_retry_after` seconds is not waited for: the error is raised at once.
    """

    retries: int = 3
    backoff: float = 0.5
    max_backoff: float = 30.0
    max_retry_after: float = 120.0

    def backoff_delay(self, attempt: int) -> float:
        return min(self.max_backoff, self.backoff * (2**attempt)) * random.uniform(0.5, 1.0)

    def after_response(self, call: Call[Any], attempt: int, response: httpx.Response) -> float | None:
        """Seconds to wait before retrying after `response`, or None to take it as the answer."""
        if not call.retry or attempt >= self.retries or response.status_code not in RETRY_STATUSES:
            return None
        if response.status_code in call.ok_statuses:
            return None
        asked = parse_retry_after(response.headers.get("retry-after"))
        if asked is None:
            return self.backoff_delay(attempt)
        return asked if asked <= self.max_retry_after else None

    def after_error(self, call: Call[Any], attempt: int, error: httpx.TransportError) -> float | None:
        """Seconds to wait before retrying after a transport error, or None to give up.

        A request that never left (connection refused, DNS) is always safe to repeat; one that may
        have reached the server is repeated only when its method is idempotent.
        """
        if not call.retry or attempt >= self.retries:
            return None
        never_sent = isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
        return self.backoff_delay(attempt) if never_sent or call.idempotent else None
