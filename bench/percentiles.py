"""The percentiles the benchmarks print, defined once so two figures of the same name agree, and the
table of medians against a baseline measured in the same run."""

from __future__ import annotations

import statistics

import numpy as np


def pct(values: list[float], p: float) -> float:
    """The `p`-th percentile (0-100) by nearest rank: a value that was measured, never between two."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def pct_interpolated(values: list[float], p: float) -> float:
    """The `p`-th percentile (0-100) interpolated linearly between the two nearest values (numpy's)."""
    return float(np.percentile(values, p))


def print_against_baseline(
    times: dict[str, list[float]], baseline: str, header: tuple[str, str, str], unit: str, digits: int, ratio_digits: int
) -> None:
    """A Markdown table: per label, the median of its rounds and its difference and ratio to `baseline`'s."""
    base = statistics.median(times[baseline])
    print("| " + " | ".join(header) + " |")
    print("| --- | ---: | ---: |")
    for label, values in times.items():
        med = statistics.median(values)
        print(f"| {label} | {med:.{digits}f} | {med - base:+.{digits}f} {unit} ({med / base:.{ratio_digits}f}x) |")
