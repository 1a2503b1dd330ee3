"""Embeddings as a partitioned Dagster asset: `collection_embeddings`, one partition per collection,
and the check that vector counts agree with indexed records."""

from assets.embeddings.assets import ReembedConfig, collection_embeddings, vectors_match_indexed_records
from assets.embeddings.partitions import COLLECTION_PARTITIONS

__all__ = ["COLLECTION_PARTITIONS", "ReembedConfig", "collection_embeddings", "vectors_match_indexed_records"]
