"""Each collection is one partition of the collection stages; the key is `<tenant name>/<collection>`.

One set (`collections`) serves `landing_files`, `collection_records`, `collection_search_text`,
`collection_embeddings`, `collection_generation` and `collection_exports`, so an operator picks a
collection once and sees every stage of it, by names they can read (ids are in the metadata).
`reindex_request_sensor` (`orchestration/ingestion.py`) keeps the set equal to the collections table;
a write reported before a tick adds its own partition.
"""

# no `from __future__ import annotations`: Dagster reads annotations at definition time

import dagster as dg

from core.collections.events import PARTITIONS_NAME

COLLECTION_PARTITIONS = dg.DynamicPartitionsDefinition(name=PARTITIONS_NAME)
