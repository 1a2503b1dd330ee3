"""Operator views and actions: record and indexing statistics, queued reindexing."""

from core.admin.reindex import REINDEX_KIND, ReindexQueued, queue_collection_reindex
from core.admin.stats import PlatformStats, platform_stats

__all__ = ["REINDEX_KIND", "PlatformStats", "ReindexQueued", "platform_stats", "queue_collection_reindex"]
