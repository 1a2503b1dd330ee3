"""Core's collection events inside a Dagster run: the run's own materializations.

`collection_events(context)` wraps the core calls an op or asset makes; every `CollectionEvent` they
emit (`core/collections/events.py`) is logged by the run as an `AssetMaterialization` of the event's
asset and readable partition (the partition is added first when Dagster does not know it yet), so
the UI shows which run wrote what.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dagster as dg

from core.collections import events
from core.collections.events import CollectionEvent


def metadata_values(metadata: dict[str, Any]) -> dict[str, Any]:
    """Metadata Dagster shows: lists and dicts as JSON, None as text."""
    out: dict[str, Any] = {}
    for key, value in metadata.items():
        if isinstance(value, list | dict):
            out[key] = dg.MetadataValue.json(value)
        elif value is None:
            out[key] = ""
        else:
            out[key] = value
    return out


def materialization(event: CollectionEvent) -> dg.AssetMaterialization:
    return dg.AssetMaterialization(
        asset_key=event.asset,
        partition=event.partition,
        description=event.description,
        metadata=metadata_values(event.full_metadata()),
        tags={"kariz/tenant": str(event.tenant_id), "kariz/collection": str(event.collection_id), **event.tags},
    )


def ensure_partition(instance: dg.DagsterInstance, key: str) -> None:
    if not instance.has_dynamic_partition(events.PARTITIONS_NAME, key):
        instance.add_dynamic_partitions(events.PARTITIONS_NAME, [key])


def log_events(context: dg.OpExecutionContext, found: list[CollectionEvent]) -> None:
    for event in found:
        ensure_partition(context.instance, event.partition)
        context.log_event(materialization(event))
    log_checks(context, found)


def log_checks(context: dg.OpExecutionContext, found: list[CollectionEvent]) -> None:
    """Right after a run's own materializations: the checks of each materialized asset, for its
    partition, as this run's check evaluations (an op is not an asset job, so Dagster would not
    run them). Needs the run's `database` and `settings` resources; a failing check never fails
    the write that committed."""
    from assets.collection_checks import COLLECTION_CHECKS, evaluate_partition

    database = getattr(context.resources, "database", None)
    settings = getattr(context.resources, "settings", None)
    if database is None or settings is None:
        return
    for asset, partition in sorted({(e.asset, e.partition) for e in found}):
        for spec in (c for c in COLLECTION_CHECKS if c.asset == asset):
            try:
                result = evaluate_partition(spec, partition, database, settings.get())
            except Exception as exc:  # noqa: BLE001 - reported, the hourly run tries again
                context.log.warning("check %s of %s could not run: %s", spec.name, partition, exc)
                continue
            context.log_event(dg.AssetCheckEvaluation(
                asset_key=dg.AssetKey(asset), check_name=spec.name, passed=result.passed,
                metadata=result.metadata, severity=result.severity, description=result.description,
                partition=partition))


@contextmanager
def collection_events(context: dg.OpExecutionContext) -> Iterator[list[CollectionEvent]]:
    """Log the events emitted inside the block as this run's materializations (also on failure:
    what committed before it did happen)."""
    with events.capturing() as found:
        try:
            yield found
        finally:
            log_events(context, found)
