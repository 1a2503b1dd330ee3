"""The offline detector's accuracy on the photographs that ship in the scikit-image wheel.

Photos with a COCO object: is the best detection that object (top-1), is it among the detections
(found)? Photos without one: is anything detected at all (a false positive)? Threshold as served
(0.35).

    .venv/bin/python bench/estimator_accuracy.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.estimator.detector_setup import installed_model  # noqa: E402
from core.estimator.vision import NanoDetProvider  # noqa: E402
from tests.estimator_photos import DATA  # noqa: E402

WITH_OBJECT = {"astronaut.png": "person", "coffee.png": "cup", "chelsea.png": "cat", "motorcycle_left.png": "motorcycle",
               "motorcycle_right.png": "motorcycle", "horse.png": "horse", "camera.png": "person"}
WITHOUT = ["rocket.jpg", "hubble_deep_field.jpg", "retina.jpg", "moon.png", "coins.png", "brick.png", "grass.png",
           "gravel.png", "page.png", "text.png"]


def main() -> None:
    path = installed_model()
    assert path is not None, "run `make install` first"
    detector = NanoDetProvider(path)
    top1 = found = 0
    for name, label in WITH_OBJECT.items():
        dets = detector.detect(Image.open(DATA / name).convert("RGB"))
        best = f"{dets[0].label} {dets[0].confidence:.2f}" if dets else "-"
        top1 += bool(dets) and dets[0].label == label
        found += any(d.label == label for d in dets)
        print(f"{name:<22} expect {label:<11} best {best:<18} all {[d.label for d in dets]}")
    false_pos = 0
    for name in WITHOUT:
        dets = detector.detect(Image.open(DATA / name).convert("RGB"))
        false_pos += bool(dets)
        print(f"{name:<22} expect nothing    got  {[f'{d.label} {d.confidence:.2f}' for d in dets]}")
    print(f"top-1 {top1}/{len(WITH_OBJECT)}, found {found}/{len(WITH_OBJECT)}, "
          f"false positives on {false_pos}/{len(WITHOUT)} object-free images")


if __name__ == "__main__":
    main()
