"""The first semantic/hybrid query of a process: what its query embedding costs cold (the model
loads on first use) and after the API's start-up warm-up (`warm_models`, on by default), beside a
steady-state query embedding in the same process (the baseline).

Each round runs a fresh Python process (imports done before timing), so the cold figure includes
loading the ONNX model and building its session, as the first request of a new API worker did.

    .venv/bin/python bench/first_query.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHILD = """
import json, time
from core.settings import Settings
from core.search import hybrid
settings = Settings(env="test")
warm = {warm}
if warm:
    hybrid.warm_query_model(settings)   # what api/app.py's start-up does before serving
t0 = time.perf_counter(); hybrid.query_vector("cordless drill for concrete walls"); first = time.perf_counter() - t0
t0 = time.perf_counter(); hybrid.query_vector("stainless steel hex bolt m8"); steady = time.perf_counter() - t0
print(json.dumps({{"first_ms": first * 1000, "steady_ms": steady * 1000}}))
"""


def run(warm: bool) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD.format(warm=warm)], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    cold, warm = [], []
    for _ in range(args.rounds):  # alternated, so load on the machine falls on both alike
        cold.append(run(False))
        warm.append(run(True))
    med = lambda rows, k: statistics.median(r[k] for r in rows)  # noqa: E731
    print(f"load average {os.getloadavg()[0]:.1f}, {args.rounds} fresh processes each, medians:")
    print(f"  first query embedding, cold process:           {med(cold, 'first_ms'):8.1f} ms")
    print(f"  first query embedding, after start-up warm-up: {med(warm, 'first_ms'):8.1f} ms")
    print(f"  steady-state query embedding (baseline):       {med(warm, 'steady_ms'):8.1f} ms")


if __name__ == "__main__":
    main()
