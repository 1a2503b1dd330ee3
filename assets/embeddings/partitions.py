"""Each collection is one partition of the collection stages; the key is `<tenant name>/<collection>`.

One set (`collections`) serves `landing_files`, `collection_records`, `collection_search_text`,
`collection_embeddings`, `collection_generation` and `collection_exports`, so an operator picks a
collection once and sees every stage of it, by names they can read (ids are in the metadata).
`reindex_request_sensor` (`orchestration/ingestion.py`) keeps the set equal to the collections table;
a write reported before a tick adds its own partition. An asset run of a partition reads its
collection with `partition_collection`.
"""

# no `from __future__ import annotations`: Dagster reads annotations at definition time

import dagster as dg

from core.collections import events
from core.collections.events import PARTITIONS_NAME
from orchestration.resources import DatabaseResource

COLLECTION_PARTITIONS = dg.DynamicPartitionsDefinition(name=PARTITIONS_NAME)


def partition_collection(database: DatabaseResource, key: str) -> events.CollectionNames:
    """The collection the partition `key` names; a collection deleted since fails the run for good."""
    with database.session() as session:
        names = events.resolve_partition(session, key)
    if names is None:
        raise dg.Failure(f"collection {key} no longer exists", allow_retries=False)
    return names
