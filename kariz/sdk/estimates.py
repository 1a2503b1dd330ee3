"""The estimator in the SDK: request bodies from photos, and reading the event stream as it arrives."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ImageSource = bytes | str | Path
ANALYZE_PATH = "/estimator/analyze"
STREAM_HEADERS = {"Accept": "text/event-stream"}


@dataclass(frozen=True)
class EstimateEvent:
    """One event of the estimate stream: `start`, `image`, `item`, `summary`, `error` or `done`."""

    id: int | None
    event: str
    data: Any


def _encode(image: ImageSource) -> str:
    if isinstance(image, bytes):
        return base64.b64encode(image).decode()
    if isinstance(image, str) and image.startswith("data:"):
        return image
    return base64.b64encode(Path(image).read_bytes()).decode()


def analyze_body(images: Iterable[ImageSource], tenant_id: str, *, notes: str | None = None,
                 keep_images: bool = False) -> dict[str, Any]:
    """The JSON body of `POST /estimator/analyze`: photos as bytes, file paths or data URLs."""
    body: dict[str, Any] = {"tenantId": tenant_id, "images": [_encode(i) for i in images]}
    if notes is not None:
        body["notes"] = notes
    if keep_images:
        body["keepImages"] = True
    return body


class SseDecoder:
    """Turns the stream's lines into events as they complete (comments, i.e. pings, are skipped)."""

    def __init__(self) -> None:
        self._id: int | None = None
        self._event = "message"
        self._data: list[str] = []

    def feed(self, line: str) -> EstimateEvent | None:
        """The event that `line` completes (a blank line ends one), else None."""
        line = line.rstrip("\r\n")
        if not line:
            if not self._data:
                return None
            raw = "\n".join(self._data)
            try:
                data: Any = json.loads(raw)
            except ValueError:
                data = raw
            done = EstimateEvent(self._id, self._event, data)
            self._id, self._event, self._data = None, "message", []
            return done
        if line.startswith(":"):
            return None
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "id":
            self._id = int(value) if value.isdigit() else None
        elif field == "event":
            self._event = value
        elif field == "data":
            self._data.append(value)
        return None


def decode_lines(lines: Iterable[str]) -> Iterator[EstimateEvent]:
    """The events of a blocking stream of SSE lines, as each completes."""
    decoder = SseDecoder()
    for line in lines:
        event = decoder.feed(line)
        if event is not None:
            yield event
