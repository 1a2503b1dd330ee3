"""Packing rules: boxes by class and volume, blankets by surface, the vehicle by load and factor."""

from __future__ import annotations

import math

from core.estimator import packing
from core.estimator.catalog import CLASSES
from core.estimator.packing import (
    BOXES,
    LOADING_FACTOR,
    VEHICLES,
    PackedLine,
    blankets_for,
    item_packing,
    plan,
)


def line(label: str, quantity: int = 1, dims: tuple[float, float, float] | None = None) -> PackedLine:
    cls = CLASSES[label]
    dims = dims or (cls.width, cls.depth, cls.height)
    return PackedLine(cls, dims, dims[0] * dims[1] * dims[2] / 1e6, quantity)


def test_blankets_cover_the_surface_with_at_least_one_pad() -> None:
    assert blankets_for(50, 55, 90) == 1  # a chair: 2.4 m2
    assert blankets_for(200, 90, 85) == 3  # a couch: 8.5 m2, 3 m2 a pad
    assert blankets_for(1, 1, 1) == 1


def test_each_class_travels_as_its_category_says() -> None:
    assert item_packing(CLASSES["cup"], (12, 9, 10)).box == "medium"
    assert item_packing(CLASSES["book"], (15, 3, 23)).box == "small"
    couch = item_packing(CLASSES["couch"], (200, 90, 85))
    assert (couch.method, couch.blankets) == ("blanket", 3)
    assert item_packing(CLASSES["suitcase"], (45, 26, 68)).method == "loose"


def test_boxed_items_share_boxes_at_the_fill_factor() -> None:
    books = line("book", 40)  # 40 x 1.035 l = 41.4 l at 60 % fill = 69 l; a small box is 42.5 l
    result = plan([books])
    expected = math.ceil(40 * books.volume_m3 / packing.FILL_FACTOR / BOXES["small"].volume_m3)
    assert result.boxes["small"] == expected == 2
    cups = line("cup", 10)  # fragile: 40 % fill
    assert plan([cups]).boxes["medium"] == math.ceil(10 * cups.volume_m3 / packing.FRAGILE_FILL_FACTOR
                                                     / BOXES["medium"].volume_m3)


def test_vehicle_is_the_smallest_that_holds_the_load_at_the_loading_factor() -> None:
    small = plan([line("chair", 2)])
    assert small.vehicle == "cargo van"
    assert small.load_percent == round(100 * small.load_m3 / LOADING_FACTOR / VEHICLES[0].capacity_m3)
    # a load just over the van at 75 %: the 10 ft truck
    over_van = VEHICLES[0].capacity_m3 * LOADING_FACTOR * 1.05
    side = (over_van * 1e6) ** (1 / 3)
    assert plan([line("couch", 1, (side, side, side))]).vehicle == "10 ft truck"


def test_more_than_the_largest_truck_needs_trips_and_beds_bring_wardrobe_boxes() -> None:
    huge = plan([line("bed", 60)])
    assert huge.vehicle == "26 ft truck"
    assert huge.trips >= 2
    assert huge.load_percent <= 100
    assert huge.boxes["wardrobe"] == 60 * packing.WARDROBE_BOXES_PER_BED
    assert huge.blankets == 60 * blankets_for(160, 210, 60)


def test_nothing_to_move_is_an_empty_plan() -> None:
    empty = plan([])
    assert empty.boxes == {"small": 0, "medium": 0, "large": 0, "wardrobe": 0}
    assert (empty.blankets, empty.load_percent, empty.vehicle) == (0, 0, "cargo van")
