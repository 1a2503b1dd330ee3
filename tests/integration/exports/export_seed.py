"""Seed helpers for export tests: tenants, collections and records written with the ORM."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from sqlalchemy.orm import Session

from core.db.models import Collection, Record, Tenant


def make_tenant(session: Session, name: str | None = None) -> Tenant:
    tenant = Tenant(
        name=name or f"export-{uuid.uuid4().hex[:10]}",
        entity_limit=1_000_000,
        monthly_request_limit=1_000_000,
        monthly_token_limit=1_000_000,
        per_minute_limit=600,
        daily_limit=100_000,
    )
    session.add(tenant)
    session.flush()
    return tenant


def make_collection(session: Session, tenant: Tenant, name: str, active_generation: int = 1) -> Collection:
    collection = Collection(tenant_id=tenant.id, name=name, active_generation=active_generation)
    session.add(collection)
    session.flush()
    return collection


def add_records(
    session: Session,
    collection: Collection,
    items: list[tuple[str, dict[str, Any]]],
    *,
    generation: int | None = None,
    status: str = "active",
    record_type: str = "product",
) -> list[Record]:
    records = [
        Record(
            tenant_id=collection.tenant_id,
            collection_id=collection.id,
            generation=collection.active_generation if generation is None else generation,
            name=name,
            record_type=record_type,
            collection_data=data,
            source_type="file_upload",
            status=status,
            content_hash=hashlib.sha256(
                json.dumps([name, data, status, generation], sort_keys=True).encode()
            ).hexdigest(),
        )
        for name, data in items
    ]
    session.add_all(records)
    session.flush()
    return records
