"""Prometheus metrics of the domain, in the process-wide registry.

HTTP request counts and latencies by route come from Litestar's Prometheus middleware (`api/app.py`);
these are what only the domain knows: search modes and outcomes, ingestion counts, queue depth.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

SEARCHES = Counter(
    "kariz_search_requests_total", "Searches served, by mode and query type.", ["mode", "query_type"]
)
SEARCH_ZERO_RESULTS = Counter("kariz_search_zero_results_total", "Searches that found nothing.")
SEARCH_FALLBACKS = Counter(
    "kariz_search_fallbacks_total", "Searches answered by a fallback (filters only, or full text for vectors).",
    ["kind"],
)
SEARCH_CACHE_HITS = Counter("kariz_search_cache_hits_total", "Searches served from the cache.")
SEARCH_LATENCY = Histogram(
    "kariz_search_duration_seconds", "Server-side search time.", ["mode"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
INGESTIONS = Counter("kariz_ingestions_total", "Ingestions finished, by source type and status.",
                     ["source_type", "status"])
INGESTED_RECORDS = Counter("kariz_ingested_records_total", "Records written by ingestion, by source type.",
                           ["source_type"])
REJECTED_RECORDS = Counter("kariz_rejected_records_total", "Rows rejected by ingestion, by source type.",
                           ["source_type"])
QUEUE_DEPTH = Gauge("kariz_queue_depth", "Work waiting: queued requests and records pending embedding.", ["queue"])
ASSET_EVENTS = Counter(
    "kariz_asset_events_total",
    "Dagster asset events the API reported for its synchronous writes, by asset and outcome "
    "(reported; failed: Dagster storage unreachable; skipped: paused after a failure; disabled: no DAGSTER_HOME).",
    ["asset", "outcome"],
)
