"""Admin API: platform statistics and reindexing."""
