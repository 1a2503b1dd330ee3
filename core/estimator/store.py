"""Stored estimates, per tenant. Reads never cross tenants: another tenant's estimate is NotFound.

Functions that never commit (core/db/README.md): the reads are sync on a `Session`, which the
handler reaches with `run_in_worker_session`; the save is async on the caller's `AsyncSession` (one
of the hot paths that README names), and the response stream that calls it owns the commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from core.db.models import Estimate, EstimateImage
from core.db.tenant_rows import tenant_row
from core.errors import NotFound
from core.estimator.images import CheckedImage


@dataclass(frozen=True)
class EstimatePage:
    rows: list[Estimate]
    total: int


@dataclass(frozen=True)
class StoredEstimate:
    """An estimate row with the number of photos kept for it."""

    row: Estimate
    images_kept: int


async def save_estimate(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    estimate_id: uuid.UUID,
    provider: str,
    result: dict[str, Any],
    notes: str | None,
    images: list[CheckedImage],
    keep_images: bool,
) -> Estimate:
    """Write the estimate (and its photos when `keep_images`) in the session's transaction; not
    committed. Async on the caller's session, unlike the reads: it is on every analysis' path, where a
    worker-thread session's hand-offs cost more than the INSERT (bench/README.md, Estimator)."""
    row = Estimate(
        id=estimate_id,
        tenant_id=tenant_id,
        provider=provider,
        image_count=len(images),
        notes=notes,
        images_kept=keep_images,
        result=result,
    )
    session.add(row)
    if keep_images:
        await session.flush()  # the photos' foreign key needs the estimate first
        session.add_all(
            EstimateImage(
                estimate_id=estimate_id,
                position=img.index,
                tenant_id=tenant_id,
                content_type=img.content_type,
                sha256=img.sha256,
                data=img.data,
            )
            for img in images
        )
    await session.flush()
    return row


def get_estimate(session: Session, tenant_id: uuid.UUID, estimate_id: str) -> Estimate:
    """The tenant's estimate `estimate_id`; NotFound for a malformed id or another tenant's."""
    try:
        key = uuid.UUID(estimate_id)
    except ValueError:
        raise NotFound("estimate not found") from None
    return tenant_row(session, Estimate, key, tenant_id, "estimate")


def read_estimate(session: Session, tenant_id: uuid.UUID, estimate_id: str) -> StoredEstimate:
    """The tenant's estimate and how many of its photos are kept; NotFound as `get_estimate`."""
    row = get_estimate(session, tenant_id, estimate_id)
    return StoredEstimate(row, kept_image_count(session, tenant_id, row.id) if row.images_kept else 0)


def list_estimates(session: Session, tenant_id: uuid.UUID, *, limit: int, offset: int) -> EstimatePage:
    """The tenant's estimates, newest first, one page of them and the total."""
    rows = (
        session.execute(
            sa.select(Estimate)
            .where(Estimate.tenant_id == tenant_id)
            .order_by(Estimate.created_at.desc(), Estimate.id)
            .limit(limit)
            .offset(offset)
        )
        .scalars()
        .all()
    )
    total = session.execute(
        sa.select(sa.func.count()).select_from(Estimate).where(Estimate.tenant_id == tenant_id)
    ).scalar_one()
    return EstimatePage(list(rows), int(total))


def kept_image_count(session: Session, tenant_id: uuid.UUID, estimate_id: uuid.UUID) -> int:
    """How many photos are stored for the estimate."""
    return int(
        session.execute(
            sa.select(sa.func.count())
            .select_from(EstimateImage)
            .where(EstimateImage.estimate_id == estimate_id, EstimateImage.tenant_id == tenant_id)
        ).scalar_one()
    )
