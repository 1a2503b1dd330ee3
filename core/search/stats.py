"""Search quality in this process: latency percentiles, zero-result rate and fallbacks over a window."""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

import numpy as np

from core.search.request import SearchResponse

WINDOW = 10_000


class SearchStats:
    """The last `WINDOW` searches' latencies and outcomes, plus totals since start."""

    def __init__(self, window: int = WINDOW) -> None:
        self._latencies: deque[float] = deque(maxlen=window)
        self._zero: deque[bool] = deque(maxlen=window)
        self._lock = threading.Lock()
        self.total = 0
        self.filter_fallbacks = 0
        self.vector_fallbacks = 0
        self.cache_hits = 0
        self.modes: dict[str, int] = {}

    def record(self, response: SearchResponse) -> None:
        with self._lock:
            self.total += 1
            self._latencies.append(response.processing_time_ms)
            self._zero.append(not response.results)
            self.filter_fallbacks += response.zero_result_fallback_used
            self.vector_fallbacks += response.vector_fallback_reason is not None
            self.cache_hits += response.cache_hit
            self.modes[response.search_mode] = self.modes.get(response.search_mode, 0) + 1

    def snapshot(self) -> dict[str, Any]:
        """The numbers `/health/search` reports."""
        with self._lock:
            latencies = np.fromiter(self._latencies, dtype=float)
            zero = sum(self._zero)
            window = len(self._zero)
            p50, p95, p99 = (np.percentile(latencies, [50, 95, 99]).round(2).tolist()
                             if latencies.size else (None, None, None))
            return {
                "searches_total": self.total,
                "window": window,
                "latency_ms": {"p50": p50, "p95": p95, "p99": p99},
                "zero_result_rate": round(zero / window, 4) if window else 0.0,
                "fallback_count": self.filter_fallbacks,
                "vector_fallback_count": self.vector_fallbacks,
                "cache_hits": self.cache_hits,
                "search_modes": dict(self.modes),
            }
