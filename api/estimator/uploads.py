"""Reading an analyse request, JSON or multipart, into checked images before any stream opens."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Request
from litestar.datastructures import UploadFile

from core.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from core.estimator.images import (
    MAX_IMAGE_BYTES,
    MAX_IMAGES,
    CheckedImage,
    check_count,
    check_image,
    decode_text_image,
)

# ten images of 10 MB as base64 (4/3) plus the JSON or multipart framing around them
ANALYZE_BODY_LIMIT = MAX_IMAGES * (MAX_IMAGE_BYTES * 4 // 3 + 4096) + 64 * 1024
MAX_NOTES = 4000
INLINE_CHECK_BYTES = 256 * 1024


@dataclass(frozen=True)
class AnalyzeRequest:
    """The request as sent: the images still unchecked (bytes, or base64 / data-URL text)."""

    tenant_id: uuid.UUID
    raw_images: list[bytes | str]
    notes: str | None
    keep_images: bool


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes"):
        return True
    if value in (None, "", False) or (isinstance(value, str) and value.strip().lower() in ("false", "0", "no")):
        return False
    raise InvalidInput("keepImages must be true or false")


def _tenant(value: Any) -> uuid.UUID:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("tenantId is required")
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        raise InvalidInput("tenantId is not a valid id") from None


def _notes(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput("notes must be a string")
    if len(value) > MAX_NOTES:
        raise InvalidInput(f"notes are limited to {MAX_NOTES} characters")
    return value or None


async def read_analyze_request(request: Request[Any, Any, Any]) -> AnalyzeRequest:
    """The request's tenant, images, notes and keepImages; a 4xx domain error for a malformed body
    or an image count outside 1-10."""
    content_type = (request.headers.get("content-type") or "").lower()
    raw: list[bytes | str]
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        fields = {k: v for k, v in form.items() if k != "images"}
        raw = []
        for part in form.getall("images") if "images" in form else []:
            if isinstance(part, UploadFile):
                data = await part.read()
                raw.append(data)
            else:
                raw.append(str(part))
        tenant_value, notes_value, keep_value = fields.get("tenantId"), fields.get("notes"), fields.get("keepImages")
    elif content_type.startswith("application/json") or not content_type:
        body = await request.body()
        try:
            payload = msgspec.json.decode(body) if body else None
        except msgspec.DecodeError:
            raise InvalidInput("the body is not valid JSON") from None
        if not isinstance(payload, dict):
            raise InvalidInput("send a JSON object {tenantId, images: [...]} or multipart with 'images' parts")
        images = payload.get("images")
        if not isinstance(images, list) or not all(isinstance(i, str) for i in images):
            raise InvalidInput("images must be a list of base64 strings or data URLs")
        raw = list(images)
        tenant_value, notes_value, keep_value = payload.get("tenantId"), payload.get("notes"), payload.get("keepImages")
    else:
        raise UnsupportedMediaType("send application/json or multipart/form-data")
    tenant_id = _tenant(tenant_value)
    notes = _notes(notes_value)
    keep = _flag(keep_value)
    check_count(len(raw))
    return AnalyzeRequest(tenant_id=tenant_id, raw_images=raw, notes=notes, keep_images=keep)


def _check_all(raw: list[bytes | str]) -> list[CheckedImage]:
    checked = []
    for index, item in enumerate(raw):
        data = decode_text_image(item, index) if isinstance(item, str) else item
        if len(data) > MAX_IMAGE_BYTES:
            raise PayloadTooLarge(f"image {index} exceeds {MAX_IMAGE_BYTES // (1024 * 1024)} MB")
        checked.append(check_image(data, index))
    return checked


async def check_images(raw: list[bytes | str]) -> list[CheckedImage]:
    """Every image decoded and checked, or the first failing image's 4xx; nothing is analysed before
    all have passed. All in one worker thread hop; small requests (a few ms of work) inline, where
    the hand-off would cost more than the decoding."""
    if sum(len(item) for item in raw) <= INLINE_CHECK_BYTES:
        return _check_all(raw)
    return await asyncio.to_thread(_check_all, raw)
