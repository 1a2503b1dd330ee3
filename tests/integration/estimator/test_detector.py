"""The offline detector (NanoDet converted from the npm package's TF.js graph) on real photographs
that ship in the scikit-image wheel, asserted where the detector is right.

Measured on the photos of that wheel (see README, bench/estimator_accuracy.py): right on coffee
(cup), astronaut (person), motorcycle_left/right (motorcycle), horse (horse), camera (person);
wrong on chelsea (the close-up cat's best box says person 0.59, cat 0.40 second), and false
positives on non-photos (hubble_deep_field: person 0.55; retina: bed 0.57).
"""

from __future__ import annotations

import pytest
from PIL import Image

from core.estimator.vision import NanoDetProvider
from tests.estimator_photos import DATA


@pytest.mark.parametrize(("photo", "label"), [
    ("coffee.png", "cup"),
    ("astronaut.png", "person"),
    ("motorcycle_left.png", "motorcycle"),
    ("motorcycle_right.png", "motorcycle"),
    ("horse.png", "horse"),
    ("camera.png", "person"),
])
def test_best_detection_is_what_the_photo_shows(detector: NanoDetProvider, photo: str, label: str) -> None:
    image = Image.open(DATA / photo).convert("RGB")
    found = detector.detect(image)
    assert found, f"nothing found in {photo}"
    assert found[0].label == label
    x0, y0, x1, y1 = found[0].box
    assert 0 <= x0 < x1 <= image.width and 0 <= y0 < y1 <= image.height


def test_the_cup_box_covers_the_cup(detector: NanoDetProvider) -> None:
    image = Image.open(DATA / "coffee.png").convert("RGB")  # the cup spans roughly x 110-410 of 600
    cup = next(d for d in detector.detect(image) if d.label == "cup")
    x0, _, x1, _ = cup.box
    assert 80 < x0 < 160 and 360 < x1 < 450


def test_the_same_photo_at_another_size_gives_the_same_answer(detector: NanoDetProvider) -> None:
    image = Image.open(DATA / "motorcycle_left.png").convert("RGB")
    small = image.resize((image.width // 2, image.height // 2))
    a, b = detector.detect(image)[0], detector.detect(small)[0]
    assert a.label == b.label == "motorcycle"
    assert abs(a.box[0] / 2 - b.box[0]) < 15 and abs(a.box[2] / 2 - b.box[2]) < 15
