"""Ingestion products as Dagster assets: `collection_records`, the records of a collection (reported
by the API's ingestion), and `collection_search_text`, their full-text index (one partition per
collection, shared with `collection_embeddings`)."""

from assets.ingestion.records import RECORDS_ASSET, collection_records, landing_files
from assets.ingestion.search_text import REINDEX_ASSET, ReindexConfig, collection_search_text

__all__ = ["RECORDS_ASSET", "REINDEX_ASSET", "collection_records", "landing_files", "ReindexConfig", "collection_search_text"]
