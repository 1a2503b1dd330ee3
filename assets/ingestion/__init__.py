"""Ingestion products as Dagster assets: `collection_search_text`, the full-text index of a
collection (one partition per collection, shared with `collection_embeddings`)."""

from assets.ingestion.search_text import REINDEX_ASSET, ReindexConfig, collection_search_text

__all__ = ["REINDEX_ASSET", "ReindexConfig", "collection_search_text"]
