"""Embeddings as a partitioned Dagster asset: `collection_embeddings`, one partition per collection
(its checks are in `assets/collection_checks.py`)."""

from assets.embeddings.assets import ReembedConfig, collection_embeddings
from assets.embeddings.partitions import COLLECTION_PARTITIONS

__all__ = ["COLLECTION_PARTITIONS", "ReembedConfig", "collection_embeddings"]
