"""`export()` in one call — start, poll, stream the download — as decisions both clients share.

The clients only perform the I/O each step asks for (send a call, sleep, write chunks); when to
poll, when to stop, what a failure means and where the file goes are decided here.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import Message
from pathlib import Path
from typing import IO, Any

import httpx

from kariz.sdk.errors import ExportFailedError, KarizTimeoutError
from kariz.sdk.models import ExportDownload, ExportJob, ExportStatus
from kariz.sdk.transport import Call, as_model

Destination = str | Path | IO[bytes] | None
CHUNK = 1 << 16


def start_call(collection: str, format: str, status: str) -> Call[ExportJob]:
    return Call(
        "POST",
        "/export",
        as_model(ExportJob),
        params={"collection": collection, "format": format, "status": status},
    )


def status_call(export_id: str) -> Call[ExportStatus]:
    return Call("GET", f"/export/{export_id}/status", as_model(ExportStatus))


def download_call(export_id: str) -> Call[None]:
    return Call("GET", f"/export/{export_id}/download", lambda response: None)


def filename_from(headers: httpx.Headers, fallback: str) -> str:
    """The file name the server suggests (`Content-Disposition`), reduced to a bare name."""
    message = Message()
    message["content-disposition"] = headers.get("content-disposition", "")
    name = message.get_filename() or fallback
    return Path(name).name or fallback


class _Bar:
    """A tqdm bar when asked for one, else nothing."""

    def __init__(self, enabled: bool, **kwargs: Any) -> None:
        self._bar = None
        if enabled:
            from tqdm import tqdm

            self._bar = tqdm(**kwargs)

    def update_to(self, n: int, total: int | None = None) -> None:
        if self._bar is None:
            return
        if total is not None and self._bar.total != total:
            self._bar.total = total
        self._bar.n = n
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


class ExportFlow:
    """One `export()` call: its polling schedule, deadline, destination and progress display."""

    def __init__(
        self,
        collection: str,
        *,
        format: str = "csv",
        status: str = "active",
        to: Destination = None,
        progress: bool = False,
        poll_interval: float = 1.0,
        timeout: float | None = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.collection = collection
        self.format = format
        self.status = status
        self.to = to
        self.progress = progress
        self.poll_interval = poll_interval
        self.timeout = timeout
        self._clock = clock
        self._deadline = None if timeout is None else clock() + timeout
        self._wait = min(0.1, poll_interval)
        self.export_id: str | None = None
        self.last_status: ExportStatus | None = None
        self._rows_bar = _Bar(progress, desc=f"export {collection}", unit="rows")

    def start(self) -> Call[ExportJob]:
        return start_call(self.collection, self.format, self.status)

    def started(self, job: ExportJob) -> Call[ExportStatus]:
        self.export_id = job.export_id
        return status_call(job.export_id)

    def next_wait(self, status: ExportStatus) -> float | None:
        """Seconds to sleep before polling again, or None once the file is ready.

        Raises ExportFailedError for a failed or expired export and KarizTimeoutError past the
        deadline. Polls start fast and slow down to `poll_interval`.
        """
        assert self.export_id is not None
        self.last_status = status
        self._rows_bar.update_to(status.progress, status.total)
        if status.is_complete:
            self._rows_bar.close()
            return None
        if status.status not in ("processing", "queued", "running"):
            self._rows_bar.close()
            raise ExportFailedError(self.export_id, status.status, status.error)
        if self._deadline is not None and self._clock() >= self._deadline:
            self._rows_bar.close()
            raise KarizTimeoutError(f"export {self.export_id} still processing after {self.timeout} s")
        wait, self._wait = self._wait, min(self.poll_interval, self._wait * 2)
        return wait

    @property
    def rows(self) -> int | None:
        status = self.last_status
        return None if status is None else (status.total if status.total is not None else status.progress)


@contextmanager
def open_destination(
    export_id: str,
    to: Destination,
    response: httpx.Response,
    *,
    progress: bool = False,
    rows: int | None = None,
) -> Iterator[tuple[Callable[[bytes], None], Callable[[], ExportDownload]]]:
    """Where the download's bytes go: `(write, finish)`.

    `to` may be a file object (written as is), a directory (the server's file name inside it), a
    file path, or None (the server's file name in the working directory). Paths are written under a
    temporary name and renamed when complete, so a broken download never looks finished.
    """
    filename = filename_from(
        response.headers,
        f"{export_id}.{'csv' if 'csv' in response.headers.get('content-type', '') else 'json'}",
    )
    length = response.headers.get("content-length")
    bar = _Bar(
        progress,
        desc=filename,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        total=int(length) if length and length.isdigit() else None,
    )
    written = 0
    target: Path | None = None
    partial: Path | None = None
    if to is None or isinstance(to, str | Path):
        target = Path(to) if to is not None else Path.cwd()
        if target.is_dir():
            target = target / filename
        partial = target.with_name(f".{target.name}.part")
        sink: IO[bytes] = open(partial, "wb")  # noqa: SIM115 - closed below on every path
    else:
        sink = to

    def write(chunk: bytes) -> None:
        nonlocal written
        sink.write(chunk)
        written += len(chunk)
        bar.update_to(written)

    def finish() -> ExportDownload:
        return ExportDownload(
            export_id=export_id,
            path=target,
            bytes=written,
            filename=filename,
            content_type=response.headers.get("content-type"),
            rows=rows,
        )

    try:
        yield write, finish
        if partial is not None and target is not None:
            sink.close()
            os.replace(partial, target)
    finally:
        bar.close()
        if partial is not None:
            sink.close()
            partial.unlink(missing_ok=True)
