"""The API's synchronous writes as Dagster data events: a runless materialization of
`collection_records` for the collection an ingestion wrote, with that ingestion's counts, and of
whatever core emits while serving a request (`core/collections/events.py`; a swap through the API is
a `collection_generation` materialization): `install()` at start-up makes `report_event` core's sink.
Partitions are readable: `<tenant name>/<collection>` in the `collections` set.

Reported after the commit (the records exist before Dagster hears of them) and never at the
request's expense: when the Dagster instance cannot be reached, the failure is logged and counted
(`kariz_asset_events_total{outcome="failed"}`) and the client still gets its ingestion result.
Reaching a storage that is down costs seconds (Dagster's PostgreSQL storage retries its
connection), so after a failure the next `RETRY_AFTER_SECONDS` of ingestions do not try
(`outcome="skipped"`, one warning when the pause starts): a Dagster outage costs one request
seconds, not every request.
The instance is the one of `$DAGSTER_HOME` (`kariz up` sets it for the API and copies
`dagster.yaml` there, whose storage is Kariz's PostgreSQL); without `$DAGSTER_HOME` nothing is
reported (`outcome="disabled"`). Tests hand in their own instance with `use_instance`.
Dagster is imported on first use, so the API's start-up does not pay for it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from typing import TYPE_CHECKING

from core.collections import events
from core.collections.events import CollectionEvent
from core.ingestion.pipeline import IngestionResult
from core.metrics import ASSET_EVENTS

if TYPE_CHECKING:
    import dagster as dg

log = logging.getLogger(__name__)

_LOCK = threading.Lock()
_INSTANCE: dg.DagsterInstance | None = None
_LOADED = False
_PAUSED_UNTIL = 0.0
RECORDS_ASSET = events.RECORDS  # assets/ingestion/records.py, not imported: it loads Dagster
PARTITIONS_NAME = events.PARTITIONS_NAME  # assets/embeddings/partitions.py
_KNOWN_PARTITIONS: set[str] = set()  # added (or found) on this instance: no lookup per ingestion
RETRY_AFTER_SECONDS = 60.0


def use_instance(instance: dg.DagsterInstance | None) -> None:
    """Report to `instance` from now on (None: back to `$DAGSTER_HOME`'s, loaded on next use)."""
    global _INSTANCE, _LOADED, _PAUSED_UNTIL
    with _LOCK:
        _INSTANCE, _LOADED, _PAUSED_UNTIL = instance, instance is not None, 0.0
        _KNOWN_PARTITIONS.clear()


def _instance() -> dg.DagsterInstance | None:
    global _INSTANCE, _LOADED
    with _LOCK:
        if not _LOADED:
            import dagster as dg

            _INSTANCE = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else None
            _LOADED = True
        return _INSTANCE


def install() -> None:
    """Report core's collection events of this process (swaps, replaces) as runless materializations."""
    events.set_sink(report_event)


def report_collection_records(
    result: IngestionResult,
    *,
    tenant_id: uuid.UUID,
    tenant_name: str,
    source_type: str,
    source_name: str | None,
    active_records: int | None,
) -> bool:
    """Record the materialization of `collection_records` for the result's collection (see
    `report_event`)."""
    event = CollectionEvent(
        RECORDS_ASSET,
        tenant_id,
        tenant_name,
        result.collection_id,
        result.collection,
        f"{source_type} ingestion {result.ingestion_id} into {result.collection}",
        events.records_metadata(
            result, source_type=source_type, source_name=source_name, active_records=active_records
        ),
        {"kariz/source_type": source_type},
    )
    return report_event(event)


def report_event(event: CollectionEvent) -> bool:
    """Record the event as a runless materialization of its asset and partition (adding the
    partition first when Dagster does not know it). True when reported; False when no instance is
    configured or it failed (logged and counted; never raises)."""
    global _PAUSED_UNTIL
    started = time.perf_counter()
    if started < _PAUSED_UNTIL:
        ASSET_EVENTS.labels(event.asset, "skipped").inc()
        return False
    try:
        instance = _instance()
        if instance is None:
            ASSET_EVENTS.labels(event.asset, "disabled").inc()
            return False
        from orchestration.collection_events import materialization

        partition = event.partition
        if partition not in _KNOWN_PARTITIONS:
            if not instance.has_dynamic_partition(PARTITIONS_NAME, partition):
                instance.add_dynamic_partitions(PARTITIONS_NAME, [partition])
            _KNOWN_PARTITIONS.add(partition)
        instance.report_runless_asset_event(materialization(event))
    except Exception as exc:  # noqa: BLE001 - the write committed; Dagster being down must not fail it
        ASSET_EVENTS.labels(event.asset, "failed").inc()
        _PAUSED_UNTIL = time.perf_counter() + RETRY_AFTER_SECONDS
        log.warning(
            "could not report %s of %s to Dagster (%s: %s); not trying again for %.0f s",
            event.asset,
            event.partition,
            type(exc).__name__,
            exc,
            RETRY_AFTER_SECONDS,
        )
        return False
    ASSET_EVENTS.labels(event.asset, "reported").inc()
    log.debug(
        "reported %s of %s in %.1f ms", event.asset, event.partition, (time.perf_counter() - started) * 1000
    )
    return True
