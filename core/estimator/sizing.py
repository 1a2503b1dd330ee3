"""Dimensions of a detected item: the class's typical size, scaled by what the photo shows.

With a reference in the same photo (a person, a chair, a refrigerator, a bottle...: things whose
height varies little), the photo's centimetres per pixel is the median of the references' typical
height over their box height (the item itself left out), and the item's measured width and height
scale its typical ones, clamped to a plausible band. Without one, only the box's aspect ratio
adjusts the width. The range is tighter with a reference than without.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from core.estimator.catalog import ItemClass, reference_height
from core.estimator.vision import Detection

SCALE_BAND = (0.6, 1.6)  # a measured size may move the typical one this far, no further
ASPECT_BAND = (0.75, 1.33)
MARGIN_WITH_REFERENCE = 0.15
MARGIN_WITHOUT = 0.30


@dataclass(frozen=True)
class Size:
    width: float
    depth: float
    height: float
    margin: float
    referenced: bool

    @property
    def volume_m3(self) -> float:
        return self.width * self.depth * self.height / 1_000_000


def _clamp(v: float, band: tuple[float, float]) -> float:
    return min(max(v, band[0]), band[1])


def cm_per_pixel(detections: list[Detection], exclude: int | None = None) -> float | None:
    """The photo's scale from its references (None without any), leaving out detection `exclude`."""
    scales = []
    for i, det in enumerate(detections):
        if i == exclude:
            continue
        h = reference_height(det.label)
        box_h = det.box[3] - det.box[1]
        if h is not None and box_h > 4:
            scales.append(h / box_h)
    return statistics.median(scales) if scales else None


def estimate_size(cls: ItemClass, det: Detection, scale: float | None) -> Size:
    """The estimated dimensions (cm) of one detection of `cls`, given the photo's scale."""
    box_w = max(det.box[2] - det.box[0], 1.0)
    box_h = max(det.box[3] - det.box[1], 1.0)
    if scale is not None:
        # the box's width shows the front and part of a side: compare it with the wider of the two
        f_h = _clamp(box_h * scale / cls.height, SCALE_BAND)
        f_w = _clamp(box_w * scale / max(cls.width, cls.depth), SCALE_BAND)
        return Size(cls.width * f_w, cls.depth * f_w, cls.height * f_h, MARGIN_WITH_REFERENCE, True)
    ratio = (box_w / box_h) / (max(cls.width, cls.depth) / cls.height)
    f_w = _clamp(ratio ** 0.5, ASPECT_BAND)
    return Size(cls.width * f_w, cls.depth, cls.height, MARGIN_WITHOUT, False)
