"""One estimate: detections per image become distinct objects, items, volumes and a packing plan,
announced as stream events in the contract's order (`start`, an `image` per image as soon as it is
analysed, an `item` per distinct item, `summary`, `done`).

Counting the same object once: the detector labels boxes but cannot recognise an individual
object, so a box is taken for an object already seen in an *earlier* photo when the label is the
same, the box's shape (aspect ratio) is within 1.5x and the colours of the two crops match
(histogram intersection of 4x4x4 RGB bins >= `SAME_OBJECT_SIMILARITY`). Boxes in the same photo are
always different objects. The answer's `assumptions` says so.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from core.estimator import packing
from core.estimator.catalog import IGNORED_NOTE, ItemClass, item_class
from core.estimator.images import CheckedImage
from core.estimator.sizing import Size, cm_per_pixel, estimate_size
from core.estimator.vision import Detection, VisionProvider
from core.streams.sse import StreamEvent

SAME_OBJECT_SIMILARITY = 0.80
SAME_OBJECT_ASPECT = 1.5
FT3_PER_M3 = packing.FT3_PER_M3


def slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")


def colour_signature(image: Image.Image, box: tuple[float, float, float, float]) -> np.ndarray:
    """A normalised 64-bin RGB histogram of the box's crop."""
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    crop = image.crop((x0, y0, max(x1, x0 + 1), max(y1, y0 + 1))).resize((32, 32), Image.Resampling.BILINEAR)
    q = (np.asarray(crop, dtype=np.uint8) // 64).reshape(-1, 3).astype(np.int64)
    hist = np.bincount(q[:, 0] * 16 + q[:, 1] * 4 + q[:, 2], minlength=64).astype(np.float64)
    return hist / hist.sum()


@dataclass
class SeenObject:
    """A distinct physical object and every sighting of it."""

    object_id: str
    item_id: str
    cls: ItemClass
    signature: np.ndarray
    aspect: float
    first_image: int
    sizes: list[Size] = field(default_factory=list)
    confidences: list[float] = field(default_factory=list)
    images: list[int] = field(default_factory=list)


def _r(v: float, nd: int = 1) -> float:
    return round(float(v), nd)


class EstimateBuilder:
    """Accumulates images and turns them into the estimate's items and summary."""

    def __init__(self, estimate_id: uuid.UUID, image_count: int) -> None:
        self.estimate_id = estimate_id
        self.image_count = image_count
        self.objects: list[SeenObject] = []
        self.images: list[dict[str, Any]] = []
        self.ignored: dict[str, int] = {}
        self.referenced_images: list[int] = []
        self.merged_sightings = 0
        self.items: list[dict[str, Any]] = []
        self.summary: dict[str, Any] | None = None

    def _match(self, cls: ItemClass, sig: np.ndarray, aspect: float, index: int, taken: set[str]) -> SeenObject | None:
        best, best_sim = None, SAME_OBJECT_SIMILARITY
        for obj in self.objects:
            if obj.cls.label != cls.label or obj.first_image == index or obj.object_id in taken or index in obj.images:
                continue
            if max(aspect, obj.aspect) / max(min(aspect, obj.aspect), 1e-6) > SAME_OBJECT_ASPECT:
                continue
            sim = float(np.minimum(sig, obj.signature).sum())
            if sim >= best_sim:
                best, best_sim = obj, sim
        return best

    def add_image(self, image: CheckedImage, detections: list[Detection]) -> dict[str, Any]:
        """Record one analysed image; return its `image` event payload (boxes in original pixels)."""
        fx = image.width / image.rgb.width
        fy = image.height / image.rgb.height
        taken: set[str] = set()
        listed = []
        for i, det in enumerate(detections):
            cls = item_class(det.label)
            if cls is None:
                self.ignored[det.label] = self.ignored.get(det.label, 0) + 1
                continue
            size = estimate_size(cls, det, cm_per_pixel(detections, exclude=i))
            if size.referenced and image.index not in self.referenced_images:
                self.referenced_images.append(image.index)
            x0, y0, x1, y1 = det.box
            aspect = max(x1 - x0, 1.0) / max(y1 - y0, 1.0)
            sig = colour_signature(image.rgb, det.box)
            obj = self._match(cls, sig, aspect, image.index, taken)
            if obj is None:
                n = sum(1 for o in self.objects if o.cls.label == cls.label) + 1
                obj = SeenObject(f"{slug(cls.label)}-{n}", slug(cls.label), cls, sig, aspect, image.index)
                self.objects.append(obj)
            else:
                self.merged_sightings += 1
            taken.add(obj.object_id)
            obj.sizes.append(size)
            obj.confidences.append(det.confidence)
            obj.images.append(image.index)
            listed.append({
                "itemId": obj.item_id,
                "objectId": obj.object_id,
                "label": cls.label,
                "confidence": det.confidence,
                "box": {"x": _r(x0 * fx), "y": _r(y0 * fy), "width": _r((x1 - x0) * fx), "height": _r((y1 - y0) * fy)},
            })
        payload = {"index": image.index, "width": image.width, "height": image.height, "items": listed}
        self.images.append(payload)
        return payload

    def finish(self) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """The `item` payloads (one per distinct item, i.e. per label) and the `summary`."""
        groups: dict[str, list[SeenObject]] = {}
        for obj in self.objects:
            groups.setdefault(obj.item_id, []).append(obj)
        lines: list[packing.PackedLine] = []
        items: list[dict[str, Any]] = []
        for item_id, objs in groups.items():
            cls = objs[0].cls
            sizes = [s for o in objs for s in o.sizes]
            w = sum(s.width for s in sizes) / len(sizes)
            d = sum(s.depth for s in sizes) / len(sizes)
            h = sum(s.height for s in sizes) / len(sizes)
            margin = min(s.margin for s in sizes)
            dims = (_r(w), _r(d), _r(h))
            volume = round(dims[0] * dims[1] * dims[2] / 1_000_000, 3)
            quantity = len(objs)
            unit_packing = packing.item_packing(cls, dims)
            confidence = round(sum(max(o.confidences) for o in objs) / quantity, 3)
            lines.append(packing.PackedLine(cls, dims, volume, quantity))
            items.append({
                "itemId": item_id,
                "label": cls.label,
                "quantity": quantity,
                "dimensionsCm": {"width": dims[0], "depth": dims[1], "height": dims[2]},
                "rangeCm": {
                    "low": {"width": _r(w * (1 - margin)), "depth": _r(d * (1 - margin)), "height": _r(h * (1 - margin))},
                    "high": {"width": _r(w * (1 + margin)), "depth": _r(d * (1 + margin)), "height": _r(h * (1 + margin))},
                },
                "volumeM3": volume,
                "volumeFt3": round(volume * FT3_PER_M3, 2),
                "weightKg": _r(cls.weight_kg),
                "fragile": cls.fragile,
                "confidence": confidence,
                "category": cls.category,
                "objects": [o.object_id for o in objs],
                "packing": {"method": unit_packing.method, "box": unit_packing.box,
                            "blankets": unit_packing.blankets * quantity},
            })
        plan = packing.plan(lines)
        total_m3 = round(sum(i["volumeM3"] * i["quantity"] for i in items), 3)
        summary = {
            "totals": {
                "items": sum(i["quantity"] for i in items),
                "volumeM3": total_m3,
                "volumeFt3": round(sum(i["volumeFt3"] * i["quantity"] for i in items), 2),
                "weightKg": _r(sum(i["weightKg"] * i["quantity"] for i in items)),
            },
            "packing": {
                "boxes": plan.boxes,
                "blankets": plan.blankets,
                "loadM3": round(plan.load_m3, 3),
                "recommended": {"vehicle": plan.vehicle, "loadPercent": plan.load_percent, "trips": plan.trips},
            },
            "assumptions": self._assumptions(plan),
        }
        self.items, self.summary = items, summary
        return items, summary

    def _assumptions(self, plan: packing.PackingPlan) -> list[str]:
        notes = [
            "Dimensions start from typical sizes of each kind of item; "
            + (f"they were scaled by reference objects of known height in image(s) "
               f"{', '.join(str(i) for i in self.referenced_images)}; " if self.referenced_images else "")
            + "elsewhere only the box's proportions adjust them (a wider range is given).",
            "The offline detector cannot tell individual objects apart: a thing seen in two photos was counted once "
            "when its label, box proportions and colours matched "
            f"({self.merged_sightings} sighting(s) merged); two look-alike items photographed separately may be merged, "
            "and one item photographed from very different angles may be counted twice.",
            f"Boxes are filled to {int(packing.FILL_FACTOR * 100)}% ({int(packing.FRAGILE_FILL_FACTOR * 100)}% for "
            f"fragile items); the vehicle is planned at {int(packing.LOADING_FACTOR * 100)}% of its load volume.",
        ]
        if plan.boxes.get("wardrobe"):
            notes.append("Clothes are not visible: one wardrobe box per bed is assumed.")
        if plan.trips > 1:
            notes.append(f"The load exceeds the largest vehicle: {plan.trips} trips.")
        if self.ignored:
            seen = ", ".join(f"{label} ({n})" for label, n in sorted(self.ignored.items()))
            notes.append(f"Seen but not counted: {seen}; {IGNORED_NOTE}.")
        if not self.objects:
            notes.append("No movable items were recognised in the photos.")
        return notes

    def result(self) -> dict[str, Any]:
        """The whole estimate (what `Accept: application/json` and the stored estimate hold)."""
        return {"estimateId": str(self.estimate_id), "images": self.images, "items": self.items,
                "summary": self.summary}


def analyze_image(builder: EstimateBuilder, provider: VisionProvider, image: CheckedImage) -> dict[str, Any]:
    """Detect what is in `image`, add it to `builder` and return the `image` event's payload (blocking)."""
    return builder.add_image(image, provider.detect(image.rgb))


SaveEstimate = Callable[[EstimateBuilder], Awaitable[None]]


async def analyze_events(images: list[CheckedImage], provider: VisionProvider, *, estimate_id: uuid.UUID,
                         save: SaveEstimate) -> AsyncIterator[StreamEvent]:
    """The estimate's events. Each image is analysed in a worker thread and announced at once; the
    estimate is saved (through `save`) before `done`, so `done` means it is stored."""
    builder = EstimateBuilder(estimate_id, len(images))
    yield StreamEvent("start", {"estimateId": str(estimate_id), "images": len(images)})
    for image in images:
        # detection and what follows from it (sizes, colour signatures) in one hop: the images are
        # analysed one after another, so the builder is never touched by two threads at once
        payload = await asyncio.to_thread(analyze_image, builder, provider, image)
        yield StreamEvent("image", payload)
    items, summary = builder.finish()
    for item in items:
        yield StreamEvent("item", item)
    yield StreamEvent("summary", summary)
    await save(builder)
    yield StreamEvent("done", {"estimateId": str(estimate_id), "stored": True})

