"""Packing rules as data, and the plan they give: boxes by item class and volume, blankets for
furniture, and the vehicle for the total volume with a loading factor.

Sources (the figures are the common trade sizes, not one vendor's promise):
- Boxes: the standard moving-box sizes sold by truck-rental and moving-supply firms (U-Haul's
  published box line): small 1.5 ft3 (16 x 12 x 12 in), medium 3.0 ft3 (18 x 18 x 16 in), large
  4.5 ft3 (18 x 18 x 24 in), wardrobe 11 ft3 (24 x 21 x 46 in, with a hanging bar).
- Fill: a box is packed to about 60 % of its volume with the items themselves (the rest is paper and
  padding); fragile items (dishes, glass) to about 40 % (packing guides' "dish pack" advice).
- Blankets: a standard furniture pad is 72 x 80 in (1.83 x 2.03 m, 3.7 m2); allowing for overlap one
  covers ~3 m2 of an item's surface.
- Vehicles: interior load volumes published for rental cargo vans and box trucks (cargo van 245 ft3,
  10 ft truck 402 ft3, 15 ft 764 ft3, 20 ft 1,016 ft3, 26 ft 1,682 ft3).
- Loading factor: irregular shapes leave about a quarter of a truck's volume unusable, so loads are
  planned at 75 % of the interior volume (movers' rule of thumb).
- Wardrobe boxes: clothes are not visible to the detector; one wardrobe box per bed seen (one
  person's hanging clothes, ~60 cm of rail) is assumed and said so in the answer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.estimator.catalog import ItemClass

FT3_PER_M3 = 35.3147


@dataclass(frozen=True)
class BoxSize:
    name: str
    volume_m3: float


BOXES: dict[str, BoxSize] = {
    "small": BoxSize("small", 1.5 / FT3_PER_M3),
    "medium": BoxSize("medium", 3.0 / FT3_PER_M3),
    "large": BoxSize("large", 4.5 / FT3_PER_M3),
    "wardrobe": BoxSize("wardrobe", 11.0 / FT3_PER_M3),
}
FILL_FACTOR = 0.60
FRAGILE_FILL_FACTOR = 0.40
BLANKET_COVER_M2 = 3.0
BLANKET_CATEGORIES = frozenset({"furniture", "appliance", "electronics", "vehicle"})
WARDROBE_BOXES_PER_BED = 1
LOADING_FACTOR = 0.75


@dataclass(frozen=True)
class Vehicle:
    name: str
    capacity_m3: float


VEHICLES: tuple[Vehicle, ...] = (
    Vehicle("cargo van", 245 / FT3_PER_M3),
    Vehicle("10 ft truck", 402 / FT3_PER_M3),
    Vehicle("15 ft truck", 764 / FT3_PER_M3),
    Vehicle("20 ft truck", 1016 / FT3_PER_M3),
    Vehicle("26 ft truck", 1682 / FT3_PER_M3),
)


@dataclass(frozen=True)
class ItemPacking:
    """How one unit travels: `box` (a share of a box size), `blanket` (n pads), or `loose`."""

    method: str
    box: str | None
    blankets: int


def blankets_for(width_cm: float, depth_cm: float, height_cm: float) -> int:
    """Pads to wrap an item of these dimensions (its surface / what one pad covers, at least one)."""
    w, d, h = width_cm / 100, depth_cm / 100, height_cm / 100
    surface = 2 * (w * d + w * h + d * h)
    return max(1, math.ceil(surface / BLANKET_COVER_M2))


def item_packing(cls: ItemClass, dims_cm: tuple[float, float, float]) -> ItemPacking:
    """The packing of one unit of `cls` with the estimated dimensions."""
    if cls.category == "boxable" and cls.box:
        return ItemPacking("box", cls.box, 0)
    if cls.category in BLANKET_CATEGORIES:
        return ItemPacking("blanket", None, blankets_for(*dims_cm))
    return ItemPacking("loose", None, 0)


@dataclass(frozen=True)
class PackedLine:
    """One item line to plan: its class, unit dimensions and volume, and how many."""

    cls: ItemClass
    dims_cm: tuple[float, float, float]
    volume_m3: float
    quantity: int


@dataclass(frozen=True)
class PackingPlan:
    boxes: dict[str, int]
    blankets: int
    load_m3: float
    vehicle: str
    load_percent: int
    trips: int


def plan(lines: list[PackedLine]) -> PackingPlan:
    """Boxes, blankets and the vehicle for every line.

    Boxed items share boxes: each box size gets ceil(volume of what goes in it / (box volume x fill))
    boxes, fragile items at the lower fill. The load is the volume of every box plus every unboxed
    item; the vehicle is the smallest whose capacity x loading factor holds it (the largest, with
    more trips, when none does); `load_percent` is the share of that capacity the load needs.
    """
    boxed: dict[str, float] = {name: 0.0 for name in ("small", "medium", "large")}
    blankets = 0
    loose_m3 = 0.0
    beds = 0
    for line in lines:
        packing = item_packing(line.cls, line.dims_cm)
        if packing.method == "box" and packing.box:
            fill = FRAGILE_FILL_FACTOR if line.cls.fragile else FILL_FACTOR
            boxed[packing.box] += line.volume_m3 * line.quantity / fill
        else:
            loose_m3 += line.volume_m3 * line.quantity
            blankets += packing.blankets * line.quantity
        if line.cls.label == "bed":
            beds += line.quantity
    boxes = {name: math.ceil(round(v / BOXES[name].volume_m3, 9)) for name, v in boxed.items()}
    boxes["wardrobe"] = beds * WARDROBE_BOXES_PER_BED
    load = loose_m3 + sum(BOXES[name].volume_m3 * n for name, n in boxes.items())
    needed = load / LOADING_FACTOR
    chosen = next((v for v in VEHICLES if v.capacity_m3 >= needed), VEHICLES[-1])
    trips = max(1, math.ceil(needed / chosen.capacity_m3))
    percent = round(100 * needed / (chosen.capacity_m3 * trips)) if needed else 0
    return PackingPlan(boxes=boxes, blankets=blankets, load_m3=load, vehicle=chosen.name,
                       load_percent=percent, trips=trips)
