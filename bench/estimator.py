"""The estimator's speed: per image end to end through the API beside the detector alone on the
same image, and the time to the first `image` event for ten images in one request.

  * detector  - `NanoDetProvider.detect` on the decoded image (pre-processing, onnxruntime on the
                CPU, decoding the boxes): the baseline, measured in the same run;
  * api       - `POST /api/v1/estimator/analyze` with `Accept: application/json` and that one image
                as base64, against the real app under uvicorn (in this process, one worker) on an
                embedded PostgreSQL: auth, usage counting, decoding and checking the image, the
                detector, sizing and packing, saving the estimate, JSON. Latency seen by the client.
  * first     - the same route streaming (SSE) ten photos: time from sending the request to the
                first `image` event, and to `done`.

    .venv/bin/python bench/estimator.py [--rounds 15]
"""

from __future__ import annotations

import argparse
import base64
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.app import create_app  # noqa: E402
from core.db.embedded import ensure_database, start_embedded_server, stop_embedded_server  # noqa: E402
from core.db.migrate import upgrade  # noqa: E402
from core.estimator.detector_setup import installed_model  # noqa: E402
from core.estimator.images import check_image  # noqa: E402
from core.estimator.vision import NanoDetProvider  # noqa: E402
from core.settings import Settings  # noqa: E402
from tests.estimator_photos import photo_bytes  # noqa: E402

PHOTOS = [("coffee.png", "PNG"), ("motorcycle_left.png", "JPEG"), ("astronaut.png", "WEBP")]


def serve(settings: Settings, database_url: str) -> tuple[str, uvicorn.Server, threading.Thread]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings, database_url=database_url), host="127.0.0.1",
                                           port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    return f"http://127.0.0.1:{port}", server, thread


def ms(values: list[float]) -> str:
    return f"p50 {statistics.median(values) * 1000:7.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    model = installed_model()
    assert model is not None, "run `make install` first"
    detector = NanoDetProvider(model)
    with tempfile.TemporaryDirectory(prefix="kariz-bench-est-") as tmp:
        pg = Path(tmp) / "pg"
        url = ensure_database(start_embedded_server(pg), f"bench_{uuid.uuid4().hex[:6]}")
        upgrade(url)
        settings = Settings(env="test", data_dir=Path(tmp) / "data", database_url=url,
                            jwt_secret="bench-secret-at-least-32-bytes-long-xx",
                            default_per_minute_limit=10_000_000, default_daily_limit=10_000_000)
        base, server, thread = serve(settings, url)
        try:
            with httpx.Client(base_url=base, timeout=120) as http:
                reg = http.post("/api/v1/register", json={"name": "bench-est", "email": "b@example.com"}).json()["data"]
                headers = {"Authorization": f"Bearer {reg['apiKey']}", "Accept": "application/json"}
                print(f"{'photo':<22} {'detector alone':>20} {'api end to end':>20} {'ratio':>7}")
                for name, fmt in PHOTOS:
                    data = photo_bytes(name, fmt)
                    rgb = check_image(data, 0).rgb
                    body = {"tenantId": reg["tenantId"], "images": [base64.b64encode(data).decode()]}
                    detector.detect(rgb)
                    assert http.post("/api/v1/estimator/analyze", json=body, headers=headers).status_code == 200
                    alone, api = [], []
                    for _ in range(args.rounds):  # alternate, so load on the shared machine hits both alike
                        t = time.perf_counter()
                        detector.detect(rgb)
                        alone.append(time.perf_counter() - t)
                        t = time.perf_counter()
                        r = http.post("/api/v1/estimator/analyze", json=body, headers=headers)
                        api.append(time.perf_counter() - t)
                        assert r.status_code == 200
                    ratio = statistics.median(api) / statistics.median(alone)
                    print(f"{name + ' ' + fmt:<22} {ms(alone):>20} {ms(api):>20} {ratio:6.2f}x")

                ten = [base64.b64encode(photo_bytes(n, f)).decode() for n, f in (PHOTOS * 4)[:10]]
                stream_headers = {**headers, "Accept": "text/event-stream"}
                firsts, totals, alone10 = [], [], []
                for _ in range(max(3, args.rounds // 3)):
                    t = time.perf_counter()
                    first = None
                    with http.stream("POST", "/api/v1/estimator/analyze", headers=stream_headers,
                                     json={"tenantId": reg["tenantId"], "images": ten}) as response:
                        assert response.status_code == 200
                        for line in response.iter_lines():
                            if first is None and line == "event: image":
                                first = time.perf_counter() - t
                    totals.append(time.perf_counter() - t)
                    firsts.append(first or float("nan"))
                    t = time.perf_counter()
                    detector.detect(check_image(base64.b64decode(ten[0]), 0).rgb)
                    alone10.append(time.perf_counter() - t)
                print(f"10 images, stream: first image event {ms(firsts)}, done {ms(totals)} "
                      f"(detector alone on image 0: {ms(alone10)})")
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            stop_embedded_server(pg)


if __name__ == "__main__":
    main()
