"""The percentiles the benchmarks print, defined once so two figures of the same name agree."""

from __future__ import annotations

import numpy as np


def pct(values: list[float], p: float) -> float:
    """The `p`-th percentile (0-100) by nearest rank: a value that was measured, never between two."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def pct_interpolated(values: list[float], p: float) -> float:
    """The `p`-th percentile (0-100) interpolated linearly between the two nearest values (numpy's)."""
    return float(np.percentile(values, p))
