"""Dimensions from the class table, scaled by references in the photo or by the box's shape."""

from __future__ import annotations

import pytest

from core.estimator.catalog import CLASSES
from core.estimator.sizing import (
    MARGIN_WITH_REFERENCE,
    MARGIN_WITHOUT,
    SCALE_BAND,
    cm_per_pixel,
    estimate_size,
)
from core.estimator.vision import Detection


def test_a_person_in_the_photo_sets_the_scale() -> None:
    person = Detection("person", 0.9, (0, 0, 100, 340))  # 170 cm over 340 px: 0.5 cm/px
    couch = Detection("couch", 0.8, (100, 170, 540, 340))  # 440 x 170 px -> 220 x 85 cm
    scale = cm_per_pixel([person, couch], exclude=1)
    assert scale == pytest.approx(0.5)
    size = estimate_size(CLASSES["couch"], couch, scale)
    assert size.referenced and size.margin == MARGIN_WITH_REFERENCE
    assert size.height == pytest.approx(85.0)
    assert size.width == pytest.approx(220.0)
    assert size.depth == pytest.approx(90 * 220 / 200)


def test_a_measurement_cannot_move_the_typical_size_beyond_the_band() -> None:
    chair = Detection("chair", 0.8, (0, 0, 1000, 1000))
    size = estimate_size(CLASSES["chair"], chair, 1.0)  # "10 m tall"
    assert size.height == pytest.approx(90 * SCALE_BAND[1])


def test_without_a_reference_only_the_proportions_adjust_the_width() -> None:
    wide = Detection("couch", 0.8, (0, 0, 400, 100))
    size = estimate_size(CLASSES["couch"], wide, None)
    assert not size.referenced and size.margin == MARGIN_WITHOUT
    assert size.height == CLASSES["couch"].height
    assert CLASSES["couch"].width < size.width <= CLASSES["couch"].width * 1.33


def test_an_item_is_never_its_own_reference() -> None:
    chair = Detection("chair", 0.8, (0, 0, 50, 90))
    assert cm_per_pixel([chair], exclude=0) is None
    assert cm_per_pixel([chair]) == pytest.approx(1.0)
