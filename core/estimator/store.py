"""Stored estimates, per tenant. Reads never cross tenants: another tenant's estimate is NotFound.

Async on the API's session (the estimate is saved from inside the response stream, on a session of
its own); the caller commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models import Estimate, EstimateImage
from core.errors import NotFound
from core.estimator.images import CheckedImage


@dataclass(frozen=True)
class EstimatePage:
    rows: list[Estimate]
    total: int


async def save_estimate(session: AsyncSession, *, tenant_id: uuid.UUID, estimate_id: uuid.UUID, provider: str,
                        result: dict[str, Any], notes: str | None, images: list[CheckedImage],
                        keep_images: bool) -> Estimate:
    """Add the estimate (and its photos when `keep_images`) to the session; not committed."""
    row = Estimate(id=estimate_id, tenant_id=tenant_id, provider=provider, image_count=len(images),
                   notes=notes, images_kept=keep_images, result=result)
    session.add(row)
    if keep_images:
        await session.flush()
        session.add_all(EstimateImage(estimate_id=estimate_id, position=img.index, tenant_id=tenant_id,
                                      content_type=img.content_type, sha256=img.sha256, data=img.data)
                        for img in images)
    await session.flush()
    return row


async def get_estimate(session: AsyncSession, tenant_id: uuid.UUID, estimate_id: str) -> Estimate:
    """The tenant's estimate `estimate_id`; NotFound for a malformed id or another tenant's."""
    try:
        key = uuid.UUID(estimate_id)
    except ValueError:
        raise NotFound("estimate not found") from None
    row = (await session.execute(
        sa.select(Estimate).where(Estimate.id == key, Estimate.tenant_id == tenant_id)
    )).scalar_one_or_none()
    if row is None:
        raise NotFound("estimate not found")
    return row


async def list_estimates(session: AsyncSession, tenant_id: uuid.UUID, *, limit: int, offset: int) -> EstimatePage:
    """The tenant's estimates, newest first, one page of them and the total."""
    rows = (await session.execute(
        sa.select(Estimate).where(Estimate.tenant_id == tenant_id)
        .order_by(Estimate.created_at.desc(), Estimate.id).limit(limit).offset(offset)
    )).scalars().all()
    total = (await session.execute(
        sa.select(sa.func.count()).select_from(Estimate).where(Estimate.tenant_id == tenant_id)
    )).scalar_one()
    return EstimatePage(list(rows), int(total))


async def kept_image_count(session: AsyncSession, tenant_id: uuid.UUID, estimate_id: uuid.UUID) -> int:
    """How many photos are stored for the estimate."""
    return int((await session.execute(
        sa.select(sa.func.count()).select_from(EstimateImage)
        .where(EstimateImage.estimate_id == estimate_id, EstimateImage.tenant_id == tenant_id)
    )).scalar_one())
