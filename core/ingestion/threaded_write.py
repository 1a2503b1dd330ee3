"""The producer/consumer write: one thread prepares rows, the caller's thread COPYs them."""

from __future__ import annotations

import queue
import threading
import uuid
from collections.abc import Iterable

from core.ingestion.preparation import KeyedChunk, KeyTally, RowPreparer
from core.ingestion.rows import ParsedRow, RowError
from core.ingestion.store import KeyedWriter, StagedWriter, Target
from core.records.bulk import Executor, driver_connection

CHUNK_ROWS = 25_000

_DONE = object()


def _produce(
    rows: Iterable[ParsedRow | RowError], preparer: RowPreparer, out: queue.Queue, keys: KeyTally | None
) -> None:
    """Producer thread: parse and prepare rows into chunks while the database writes the previous one.

    Unkeyed chunks are lists of staging tuples; keyed ones are `(rows, deleted keys)` pairs."""
    tally = preparer.tally
    chunk: list[tuple] | KeyedChunk = [] if keys is None else KeyedChunk(keys)
    try:
        for item in rows:
            if isinstance(item, RowError):
                tally.reject(item)
                continue
            prepared = preparer.prepare(item)
            if isinstance(prepared, RowError):
                tally.reject(prepared)
                continue
            tally.valid += 1
            if keys is None:
                chunk.append(prepared)  # type: ignore[union-attr]
            else:
                chunk.add(item.line, prepared)  # type: ignore[union-attr]
            if len(chunk) >= CHUNK_ROWS:
                out.put(chunk if keys is None else chunk.seal())  # type: ignore[union-attr]
                chunk = [] if keys is None else KeyedChunk(keys)
        if len(chunk):
            out.put(chunk if keys is None else chunk.seal())  # type: ignore[union-attr]
        out.put(_DONE)
    except BaseException as exc:  # handed to the writer, which re-raises it in the caller's thread
        out.put(exc)


def write_rows(
    db: Executor,
    target: Target,
    rows: Iterable[ParsedRow | RowError],
    preparer: RowPreparer,
    *,
    keys: KeyTally | None,
    ingestion_id: uuid.UUID,
    source_type: str,
    source_name: str | None,
) -> StagedWriter:
    """Write `rows` into `target` through a StagedWriter (a KeyedWriter with `keys`): a producer
    thread prepares chunks of `CHUNK_ROWS` while this thread writes the previous one; an error on
    either side is raised here, after the producer stopped. Returns the closed writer (its counts)."""
    writer_class = StagedWriter if keys is None else KeyedWriter
    writer = writer_class(
        driver_connection(db),
        target,
        ingestion_id=ingestion_id,
        source_type=source_type,
        source_name=source_name,
    )
    chunks: queue.Queue = queue.Queue(maxsize=2)
    producer = threading.Thread(
        target=_produce, args=(rows, preparer, chunks, keys), name="kariz-ingest-prepare", daemon=True
    )
    producer.start()
    try:
        while True:
            item = chunks.get()
            if item is _DONE:
                break
            if isinstance(item, BaseException):
                raise item
            if keys is None:
                writer.write(item)
            else:
                upserts, deletes = item
                if upserts:
                    writer.write(upserts)
                writer.archive(deletes)  # type: ignore[attr-defined]
    except BaseException:
        # unblock and finish the producer before the transaction is rolled back
        while producer.is_alive():
            try:
                chunks.get(timeout=0.1)
            except queue.Empty:
                continue
        raise
    finally:
        producer.join()
    writer.close()
    return writer
