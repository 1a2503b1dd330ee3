"""Screenshots of the Dagster UI for the README: the asset catalog and the lineage graph of a stack
whose demo tenant has ingested a file and embedded it.

    .venv/bin/python docs/dagster/capture.py

Starts `kariz up` on a fresh data dir (as bench/dagster_request_latency.py does), uploads a small CSV
as the demo tenant, waits for the embedding run's `collection_embeddings` materialization, then
opens the Dagster UI in Debian's headless Chromium (Playwright, as tests/browser drive it) and saves
`catalog.png` and `lineage.png` beside this file.
"""

from __future__ import annotations

import signal
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))

from bench.dagster_request_latency import graphql, start_stack  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

CSV = (b"sku,name,description\n"
       b"A-1,Hex bolt M8,Stainless steel hex bolt for general engineering\n"
       b"A-2,Washer M8,Flat washer zinc plated\n"
       b"A-3,Nut M8,Hex nut class 8\n")

EMBEDDED = """
{ assetOrError(assetKey: {path: ["collection_embeddings"]}) {
    ... on Asset { assetMaterializations(limit: 1) { partition timestamp } } } }
"""


def wait_embedded(dagster: str, timeout: float = 600) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = graphql(dagster, EMBEDDED, {})["assetOrError"].get("assetMaterializations") or []
        if found:
            return found[0]["partition"]
        time.sleep(2)
    raise SystemExit("no collection_embeddings materialization")


def main() -> None:
    from playwright.sync_api import sync_playwright

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    with tempfile.TemporaryDirectory() as tmp:
        proc, api, dagster, _tenant, key = start_stack(Path(tmp))
        try:
            answer = httpx.post(f"{api}/ingest/parts/file?entity_type=part&source_name=catalog",
                                files={"file": ("parts.csv", CSV, "text/csv")},
                                headers={"Authorization": f"Bearer {key}"}, timeout=60)
            answer.raise_for_status()
            print("embedded partition", wait_embedded(dagster))
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1600, "height": 1000})
                # the lineage of collection_records, upstream and downstream: every stage, ungrouped
                for name, path in (("catalog", "/assets"),
                                   ("lineage", "/assets/collection_records?view=lineage&lineageDepth=4")):
                    page.goto(f"{dagster}{path}", wait_until="networkidle", timeout=120_000)
                    time.sleep(5)  # the graph lays itself out after the data arrives
                    skip = page.get_by_role("button", name="Skip")  # the UI's first-visit newsletter dialog
                    if skip.count():
                        skip.first.click()
                        time.sleep(1)
                    page.screenshot(path=str(HERE / f"{name}.png"))
                    print("saved", HERE / f"{name}.png")
                browser.close()
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(120)


if __name__ == "__main__":
    main()
