"""The collection asset checks: one Dagster check per property of `core/collections/checks.py`,
partitioned like the collection stages (`<tenant name>/<collection>`), so the UI shows which
collection fails which check.

Each check resolves its partition to the collection and makes one core call. When they run:
- in the same run as a materialization of their asset's partition by an asset job (a backfill of
  `collection_embeddings`, a `collection_search_text` reindex);
- hourly for every collection (`collection_checks_schedule`, orchestration/checks.py), and whenever
  an operator runs them from the UI.
A collection that no longer exists fails with a warning (its partition is dropped on the next
sensor tick).
"""

# no `from __future__ import annotations`: Dagster reads resource annotations at definition time

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import dagster as dg
from sqlalchemy.orm import Session

from assets.embeddings.partitions import COLLECTION_PARTITIONS
from core.collections import checks, events
from core.collections.checks import CheckOutcome
from core.collections.events import CollectionNames
from core.settings import Settings
from core.vectors.factory import get_vector_index
from orchestration.resources import DatabaseResource, SettingsResource

Evaluate = Callable[[Session, CollectionNames, Settings, DatabaseResource], CheckOutcome]


@dataclass(frozen=True)
class CollectionCheck:
    """A property of one asset of a collection, checked by one core function."""

    asset: str
    name: str
    description: str
    evaluate: Evaluate


def check_result(outcome: CheckOutcome, names: CollectionNames) -> dg.AssetCheckResult:
    """The outcome as Dagster shows it: lists and dicts as JSON, the collection's ids beside them."""
    metadata = {k: dg.MetadataValue.json(v) if isinstance(v, list | dict) else ("" if v is None else v)
                for k, v in outcome.metadata.items()}
    metadata.update(tenant_id=str(names.tenant_id), collection_id=str(names.collection_id))
    return dg.AssetCheckResult(passed=outcome.passed, description=outcome.description, metadata=metadata,
                               severity=dg.AssetCheckSeverity.ERROR)


def evaluate_partition(spec: CollectionCheck, key: str, database: DatabaseResource, settings: Settings
                       ) -> dg.AssetCheckResult:
    """The check's result for the collection partition `key`."""
    with database.session() as session:
        names = events.resolve_partition(session, key)
        if names is None:
            return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN,
                                       description=f"collection {key} no longer exists")
        return check_result(spec.evaluate(session, names, settings, database), names)


def build_check(spec: CollectionCheck) -> dg.AssetChecksDefinition:
    """The partitioned Dagster check of `spec`."""

    @dg.asset_check(
        asset=spec.asset,
        name=spec.name,
        description=spec.description,
        partitions_def=COLLECTION_PARTITIONS,
    )
    def _check(
        context: dg.AssetCheckExecutionContext, database: DatabaseResource, settings: SettingsResource
    ) -> dg.AssetCheckResult:
        result = evaluate_partition(spec, context.partition_key, database, settings.get())
        if not result.passed:
            context.log.warning("%s of %s failed: %s", spec.name, context.partition_key, result.description)
        return result

    return _check


# --- the five checks ------------------------------------------------------------------------------


def _vectors(session: Session, names: CollectionNames, settings: Settings, database: DatabaseResource) -> CheckOutcome:
    index = get_vector_index(settings, database_url=database.resolved_url)
    return checks.vectors_match_indexed_records(session, index, names.collection_id)


def _pending(session: Session, names: CollectionNames, settings: Settings, database: DatabaseResource) -> CheckOutcome:
    from core.embeddings.pipeline import PipelineOptions

    return checks.no_stale_pending_embeddings(
        session, names.collection_id, threshold=timedelta(minutes=settings.check_pending_embedding_minutes),
        claim_timeout=timedelta(seconds=PipelineOptions().claim_timeout_s),
    )


def _generation(session: Session, names: CollectionNames, settings: Settings, database: DatabaseResource) -> CheckOutcome:
    return checks.one_active_generation(session, names.collection_id)


def _search_text(session: Session, names: CollectionNames, settings: Settings, database: DatabaseResource) -> CheckOutcome:
    return checks.search_text_rebuilt(session, names.collection_id,
                                      threshold=timedelta(minutes=settings.check_reindex_minutes))


def _exports(session: Session, names: CollectionNames, settings: Settings, database: DatabaseResource) -> CheckOutcome:
    assert settings.export_dir is not None  # Settings fills it in from data_dir
    return checks.export_files_present(session, names.collection_id, export_dir=settings.export_dir)


VECTORS = CollectionCheck(
    events.EMBEDDINGS, "vectors_match_indexed_records",
    "Each live generation's vector collection holds exactly one point per indexed record (generations "
    "with records mid-run are not compared).", _vectors)
PENDING = CollectionCheck(
    events.EMBEDDINGS, "no_stale_pending_embeddings",
    "No record has waited for its embedding longer than check_pending_embedding_minutes (default 30).", _pending)
GENERATION = CollectionCheck(
    events.GENERATION, "one_active_generation",
    "Exactly one generation of the collection is active, and it is the one the collection points at.", _generation)
SEARCH_TEXT = CollectionCheck(
    "collection_search_text", "search_text_rebuilt",
    "The latest reindex request was served (not failed, not waiting longer than check_reindex_minutes) "
    "and every record has its search text.", _search_text)
EXPORTS = CollectionCheck(
    events.EXPORTS, "export_files_present",
    "Every succeeded export of the collection that has not expired still has its file.", _exports)

COLLECTION_CHECKS = [VECTORS, PENDING, GENERATION, SEARCH_TEXT, EXPORTS]

vectors_match_indexed_records = build_check(VECTORS)
no_stale_pending_embeddings = build_check(PENDING)
one_active_generation = build_check(GENERATION)
search_text_rebuilt = build_check(SEARCH_TEXT)
export_files_present = build_check(EXPORTS)
