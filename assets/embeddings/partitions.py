"""Each collection is one partition of `collection_embeddings`; the key is the collection's id.

The embedding sensor (`orchestration/embeddings.py`) adds a partition for every collection it sees,
so an operator can pick collections in the Dagster UI and backfill their re-embedding.
"""

# no `from __future__ import annotations`: Dagster reads annotations at definition time

import dagster as dg

COLLECTION_PARTITIONS = dg.DynamicPartitionsDefinition(name="embedding_collections")
