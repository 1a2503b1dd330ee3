"""What each detectable class is as a thing to move: typical size, weight, fragility, how it travels.

Labels are the detector's (COCO) names. Sizes are typical outer dimensions of a common model in cm
(width x depth x height as it stands), weights in kg; they are starting points that `sizing` scales
by what the photo shows. Figures are typical retail dimensions (IKEA / appliance spec sheets for the
furniture and appliances, ISO 216 / trade sizes for books and boxes); `ignored` classes are not
moved (people, animals, fixtures, food, outdoor vehicles and street furniture).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Category = Literal["furniture", "appliance", "electronics", "boxable", "loose", "vehicle"]


@dataclass(frozen=True)
class ItemClass:
    """One kind of item: typical dimensions (cm), weight (kg), category, fragile, and whether its
    height is reliable enough to measure the other things in the same photo by."""

    label: str
    width: float
    depth: float
    height: float
    weight_kg: float
    category: Category
    fragile: bool = False
    reference: bool = False
    box: Literal["small", "medium", "large"] | None = None  # the box size boxable items go in


def _c(label: str, w: float, d: float, h: float, kg: float, cat: Category, **kw: object) -> ItemClass:
    return ItemClass(label, w, d, h, kg, cat, **kw)  # type: ignore[arg-type]


CLASSES: dict[str, ItemClass] = {c.label: c for c in (
    # furniture
    _c("chair", 50, 55, 90, 7, "furniture", reference=True),
    _c("couch", 200, 90, 85, 45, "furniture"),
    _c("bed", 160, 210, 60, 60, "furniture"),
    _c("dining table", 160, 90, 75, 35, "furniture", reference=True),
    _c("bench", 120, 40, 45, 15, "furniture"),
    _c("potted plant", 40, 40, 70, 8, "loose", fragile=True),
    # appliances and electronics
    _c("tv", 112, 8, 65, 14, "electronics", fragile=True),
    _c("refrigerator", 70, 70, 180, 75, "appliance", reference=True),
    _c("oven", 60, 60, 85, 45, "appliance"),
    _c("microwave", 50, 40, 30, 13, "appliance", fragile=True, box="large"),
    _c("toaster", 30, 20, 20, 2, "boxable", box="medium"),
    _c("laptop", 34, 24, 2, 1.8, "boxable", fragile=True, box="small"),
    _c("keyboard", 44, 13, 3, 0.7, "boxable", box="medium"),
    _c("mouse", 6, 11, 4, 0.1, "boxable", box="small"),
    _c("remote", 5, 18, 2, 0.1, "boxable", box="small"),
    _c("cell phone", 7, 15, 1, 0.2, "boxable", fragile=True, box="small"),
    _c("hair drier", 25, 10, 25, 0.6, "boxable", box="medium"),
    # small household things: boxed
    _c("book", 15, 3, 23, 0.5, "boxable", box="small"),
    _c("clock", 30, 5, 30, 1, "boxable", fragile=True, box="medium"),
    _c("vase", 15, 15, 30, 1, "boxable", fragile=True, box="medium"),
    _c("scissors", 8, 1, 20, 0.1, "boxable", box="small"),
    _c("teddy bear", 30, 20, 40, 0.4, "boxable", box="large"),
    _c("toothbrush", 2, 2, 19, 0.02, "boxable", box="small"),
    _c("bottle", 8, 8, 28, 0.9, "boxable", fragile=True, box="small", reference=True),
    _c("wine glass", 8, 8, 20, 0.2, "boxable", fragile=True, box="medium"),
    _c("cup", 12, 9, 10, 0.3, "boxable", fragile=True, box="medium", reference=True),
    _c("bowl", 16, 16, 7, 0.4, "boxable", fragile=True, box="medium"),
    _c("fork", 2, 2, 19, 0.05, "boxable", box="small"),
    _c("knife", 2, 2, 22, 0.06, "boxable", box="small"),
    _c("spoon", 4, 2, 18, 0.05, "boxable", box="small"),
    _c("umbrella", 10, 10, 90, 0.5, "loose"),
    _c("sports ball", 22, 22, 22, 0.4, "boxable", box="large"),
    _c("frisbee", 27, 27, 3, 0.2, "boxable", box="medium"),
    _c("baseball glove", 30, 12, 25, 0.6, "boxable", box="medium"),
    _c("tennis racket", 29, 3, 69, 0.3, "loose"),
    _c("baseball bat", 7, 7, 84, 0.9, "loose"),
    _c("kite", 90, 5, 90, 0.3, "loose"),
    # travel and sports gear: carried as it is
    _c("suitcase", 45, 26, 68, 4, "loose"),
    _c("backpack", 30, 20, 45, 1, "loose"),
    _c("handbag", 35, 15, 25, 0.8, "loose"),
    _c("skis", 20, 10, 170, 6, "loose"),
    _c("snowboard", 28, 10, 155, 5, "loose"),
    _c("surfboard", 55, 8, 200, 6, "loose"),
    _c("skateboard", 20, 12, 80, 2.5, "loose"),
    _c("bicycle", 175, 60, 100, 14, "vehicle"),
    _c("motorcycle", 210, 80, 115, 180, "vehicle"),
)}

# Heights of things that are in photos but are not moved; only used as a scale.
REFERENCE_HEIGHTS_CM: dict[str, float] = {"person": 170.0, "cat": 25.0, "dog": 55.0}

IGNORED_NOTE = "people, animals, fixtures (sinks, toilets), food and street vehicles are not moved"


def item_class(label: str) -> ItemClass | None:
    """The class of `label`, or None when it is not something to move."""
    return CLASSES.get(label)


def reference_height(label: str) -> float | None:
    """A typical height (cm) to scale a photo by, for movable references and non-movable ones."""
    cls = CLASSES.get(label)
    if cls is not None and cls.reference:
        return cls.height
    return REFERENCE_HEIGHTS_CM.get(label)
