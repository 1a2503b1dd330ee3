"""Typed answers of the estimator routes (camelCase on the wire), and the stream's event payloads.

The stream sends the same shapes: `image` is `ImageResult`, `item` is `Item`, `summary` is
`Summary`; `Accept: application/json` and `GET /estimator/estimates/{id}` answer `Estimate`.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec


class _Camel(msgspec.Struct, rename="camel", kw_only=True):
    pass


class Box(_Camel):
    x: float
    y: float
    width: float
    height: float


class ImageItem(_Camel):
    item_id: str
    object_id: str
    label: str
    confidence: float
    box: Box


class ImageResult(_Camel):
    index: int
    width: int
    height: int
    items: list[ImageItem]


class Dimensions(_Camel):
    width: float
    depth: float
    height: float


class Range(_Camel):
    low: Dimensions
    high: Dimensions


class ItemPacking(_Camel):
    method: Literal["box", "blanket", "loose"]
    box: str | None
    blankets: int


class Item(_Camel):
    item_id: str
    label: str
    quantity: int
    dimensions_cm: Dimensions
    range_cm: Range
    volume_m3: float
    volume_ft3: float
    weight_kg: float
    fragile: bool
    confidence: float
    category: str
    objects: list[str]
    packing: ItemPacking


class Totals(_Camel):
    items: int
    volume_m3: float
    volume_ft3: float
    weight_kg: float


class Boxes(_Camel):
    small: int
    medium: int
    large: int
    wardrobe: int


class Recommended(_Camel):
    vehicle: str
    load_percent: int
    trips: int


class PackingSummary(_Camel):
    boxes: Boxes
    blankets: int
    load_m3: float
    recommended: Recommended


class Summary(_Camel):
    totals: Totals
    packing: PackingSummary
    assumptions: list[str]


class Estimate(_Camel):
    estimate_id: str
    tenant_id: str
    created_at: str
    provider: str
    notes: str | None
    images_kept: int
    images: list[ImageResult]
    items: list[Item]
    summary: Summary


class EstimateEnvelope(_Camel):
    success: bool
    data: Estimate


class EstimateListEntry(_Camel):
    estimate_id: str
    created_at: str
    provider: str
    image_count: int
    notes: str | None
    totals: Totals
    recommended: Recommended


class EstimatePageData(_Camel):
    estimates: list[EstimateListEntry]
    total: int
    limit: int
    offset: int


class EstimatePageEnvelope(_Camel):
    success: bool
    data: EstimatePageData


def estimate_view(row: Any, images_kept: int) -> Estimate:
    """A stored estimate as the API shows it."""
    return msgspec.convert({
        **row.result,
        "estimateId": str(row.id),
        "tenantId": str(row.tenant_id),
        "createdAt": row.created_at.isoformat(),
        "provider": row.provider,
        "notes": row.notes,
        "imagesKept": images_kept,
    }, Estimate)


def list_entry(row: Any) -> EstimateListEntry:
    summary = row.result["summary"]
    return msgspec.convert({
        "estimateId": str(row.id), "createdAt": row.created_at.isoformat(), "provider": row.provider,
        "imageCount": row.image_count, "notes": row.notes, "totals": summary["totals"],
        "recommended": summary["packing"]["recommended"],
    }, EstimateListEntry)
