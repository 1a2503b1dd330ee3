"""The estimator's speed: per image end to end through the API beside the detector alone on the
same image, where the API's time goes, and the time to the first `image` event for ten images in
one request.

  * detector  - `NanoDetProvider.detect` on the decoded image (pre-processing, onnxruntime on the
                CPU, decoding the boxes): the baseline, measured in the same run, alternated with
                the API so load on a shared machine hits both alike;
  * api       - `POST /api/v1/estimator/analyze` with `Accept: application/json` and that one image
                as base64, against the real app served by uvicorn in its own process (as `kariz up`
                runs it) on an embedded PostgreSQL: HTTP, auth, usage counting, decoding and checking
                the image, the detector, sizing and packing, saving the estimate, JSON. Latency seen
                by the client; the body is encoded once, before the clock starts;
  * breakdown - the same request in this process through the ASGI interface (no HTTP), beside
                checking the image alone and the detector alone: what is left is auth, usage,
                saving the estimate, the thread hand-off and JSON;
  * first     - the route streaming (SSE) ten photos: time from sending the request to the first
                `image` event, and to `done`.

    .venv/bin/python bench/estimator.py [--rounds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.app import create_app  # noqa: E402
from bench.api_process import start_api as serve_api  # noqa: E402
from core.db.embedded import ensure_database, start_embedded_server, stop_embedded_server  # noqa: E402
from core.db.migrate import upgrade  # noqa: E402
from core.estimator.detector_setup import installed_model  # noqa: E402
from core.estimator.images import check_image  # noqa: E402
from core.estimator.vision import NanoDetProvider  # noqa: E402
from core.settings import Settings  # noqa: E402
from tests.estimator_photos import photo_bytes  # noqa: E402

PHOTOS = [("coffee.png", "PNG"), ("motorcycle_left.png", "JPEG"), ("astronaut.png", "WEBP")]
LIMITS = {"KARIZ_DEFAULT_PER_MINUTE_LIMIT": "10000000", "KARIZ_DEFAULT_DAILY_LIMIT": "10000000"}
SECRET = "bench-secret-at-least-32-bytes-long-xx"


def start_api(database_url: str, workdir: Path) -> tuple[subprocess.Popen, str]:
    return serve_api({**LIMITS, "DATABASE_URL": database_url, "KARIZ_DATA_DIR": str(workdir / "data"),
                      "KARIZ_ENV": "development", "KARIZ_JWT_SECRET": SECRET, "KARIZ_WARM_MODELS": "false"},
                     tries=600)


def ms(values: list[float]) -> str:
    return f"p50 {statistics.median(values) * 1000:7.1f} ms"


def analyze_body(tenant_id: str, images: list[bytes]) -> bytes:
    return json.dumps({"tenantId": tenant_id, "images": [base64.b64encode(i).decode() for i in images]}).encode()


def register(http: httpx.Client) -> tuple[str, dict[str, str]]:
    reg = http.post("/api/v1/register", json={"name": f"bench-est-{uuid.uuid4().hex[:6]}",
                                              "email": "b@example.com"}).json()["data"]
    return reg["tenantId"], {"Authorization": f"Bearer {reg['apiKey']}", "Accept": "application/json",
                             "Content-Type": "application/json"}


def over_http(base: str, detector: NanoDetProvider, rounds: int) -> None:
    with httpx.Client(base_url=base, timeout=120) as http:
        tenant, headers = register(http)
        print(f"{'photo':<26} {'detector alone':>16} {'api end to end':>16} {'ratio':>7}")
        for name, fmt in PHOTOS:
            data = photo_bytes(name, fmt)
            rgb = check_image(data, 0).rgb
            body = analyze_body(tenant, [data])
            detector.detect(rgb)
            assert http.post("/api/v1/estimator/analyze", content=body, headers=headers).status_code == 200
            alone, api = [], []
            for _ in range(rounds):
                t = time.perf_counter()
                detector.detect(rgb)
                alone.append(time.perf_counter() - t)
                t = time.perf_counter()
                r = http.post("/api/v1/estimator/analyze", content=body, headers=headers)
                api.append(time.perf_counter() - t)
                assert r.status_code == 200, r.text
            ratio = statistics.median(api) / statistics.median(alone)
            print(f"{name + ' ' + fmt:<26} {ms(alone):>16} {ms(api):>16} {ratio:6.2f}x")

        photos = [photo_bytes(n, f) for n, f in (PHOTOS * 4)[:10]]
        ten = analyze_body(tenant, photos)
        stream_headers = {**headers, "Accept": "text/event-stream"}
        firsts, totals, alone0 = [], [], []
        for _ in range(max(3, rounds // 3)):
            t = time.perf_counter()
            first = None
            with http.stream("POST", "/api/v1/estimator/analyze", headers=stream_headers, content=ten) as response:
                assert response.status_code == 200
                for line in response.iter_lines():
                    if first is None and line == "event: image":
                        first = time.perf_counter() - t
            totals.append(time.perf_counter() - t)
            firsts.append(first or float("nan"))
            t = time.perf_counter()
            detector.detect(check_image(photos[0], 0).rgb)
            alone0.append(time.perf_counter() - t)
        print(f"10 images, stream: first image event {ms(firsts)}, done {ms(totals)} "
              f"(detector alone on image 0: {ms(alone0)})")


async def in_process(database_url: str, workdir: Path, detector: NanoDetProvider, rounds: int) -> None:
    settings = Settings(env="test", data_dir=workdir / "inproc", database_url=database_url, jwt_secret=SECRET,
                        warm_models=False, default_per_minute_limit=10_000_000, default_daily_limit=10_000_000)
    app = create_app(settings, database_url=database_url)
    async with app.lifespan(), httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://bench") as http:
        reg = (await http.post("/api/v1/register", json={"name": "bench-asgi", "email": "b@example.com"})).json()["data"]
        headers = {"Authorization": f"Bearer {reg['apiKey']}", "Accept": "application/json",
                   "Content-Type": "application/json"}
        print(f"in process (ASGI, no HTTP): {'photo':<22} {'request':>9} {'detector':>9} {'check':>7} {'rest':>7} {'ratio':>6}")
        for name, fmt in PHOTOS:
            data = photo_bytes(name, fmt)
            body = analyze_body(reg["tenantId"], [data])
            rgb = check_image(data, 0).rgb
            assert (await http.post("/api/v1/estimator/analyze", content=body, headers=headers)).status_code == 200
            total, alone, check = [], [], []
            for _ in range(rounds):
                t = time.perf_counter()
                detector.detect(rgb)
                alone.append(time.perf_counter() - t)
                t = time.perf_counter()
                check_image(data, 0)
                check.append(time.perf_counter() - t)
                t = time.perf_counter()
                r = await http.post("/api/v1/estimator/analyze", content=body, headers=headers)
                total.append(time.perf_counter() - t)
                assert r.status_code == 200, r.text
            p = {k: statistics.median(v) * 1000 for k, v in (("total", total), ("alone", alone), ("check", check))}
            print(f"{'':<28}{name + ' ' + fmt:<22} {p['total']:7.1f}ms {p['alone']:7.1f}ms {p['check']:5.1f}ms "
                  f"{p['total'] - p['alone'] - p['check']:5.1f}ms {p['total'] / p['alone']:5.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    model = installed_model()
    assert model is not None, "run `make install` first"
    detector = NanoDetProvider(model)
    print(f"load average at start: {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} {os.getloadavg()[2]:.1f}")
    with tempfile.TemporaryDirectory(prefix="kariz-bench-est-") as tmp:
        pg = Path(tmp) / "pg"
        url = ensure_database(start_embedded_server(pg), f"bench_{uuid.uuid4().hex[:6]}")
        upgrade(url)
        proc, base = start_api(url, Path(tmp))
        try:
            over_http(base, detector, args.rounds)
        finally:
            proc.terminate()
            proc.wait(timeout=20)
        try:
            asyncio.run(in_process(url, Path(tmp), detector, args.rounds))
        finally:
            stop_embedded_server(pg)
    print(f"load average at end: {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} {os.getloadavg()[2]:.1f}")


if __name__ == "__main__":
    main()
