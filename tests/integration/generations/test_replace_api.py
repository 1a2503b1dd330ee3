"""The blue-green replace through the API, on pgvector and on Qdrant local mode.

Records are indexed with `seeding.index_generation` (the real local model and the real vector
index; the embedding pipeline does the same once it lands)."""

from __future__ import annotations

import uuid

import httpx
import sqlalchemy as sa
from sqlalchemy.orm import Session

from core import generations
from core.vectors.base import vector_alias_name, vector_collection_name
from tests.integration.conftest import TenantKey
from tests.integration.generations.conftest import Backend, vertical_name
from tests.integration.generations.seeding import (
    active_generation,
    csv_for,
    index_generation,
    rows_for,
    seed_live_vertical,
    vector_batches,
)


def base(name: str) -> str:
    return f"/api/v1/portal/verticals/{name}"


def upload(batch: str, count: int) -> dict:
    return {"file": (f"{batch}.csv", csv_for(batch, count), "text/csv")}


def live_batches(session: Session, collection_id: uuid.UUID) -> dict[str, int]:
    """What full-text search sees: active records of the active generation, counted by batch."""
    rows = session.execute(
        sa.text(
            "SELECT r.collection_data->>'batch', count(*) FROM records r JOIN collections c "
            "ON c.id = r.collection_id AND r.generation = c.active_generation "
            "WHERE c.id = :c AND r.status = 'active' GROUP BY 1"
        ),
        {"c": collection_id},
    ).all()
    session.commit()
    return dict(rows)


async def test_replace_index_and_swap_moves_search_to_the_new_data(
    portal: httpx.AsyncClient, owner: TenantKey, session: Session, backend: Backend
) -> None:
    name = vertical_name()
    collection_id = seed_live_vertical(session, backend.index, owner.tenant_id, name, rows_for("blue", 30))
    alias = vector_alias_name(owner.tenant_id, collection_id)

    started = await portal.post(
        f"{base(name)}/replace",
        params={"entity_type": "product", "source_name": "catalog-q2"},
        files=upload("green", 40),
        headers=owner.headers,
    )
    assert started.status_code == 200, started.text
    body = started.json()
    assert body["staging"] == {"generation": 2, "status": "staging", "vertical": name}
    assert body["summary"] == {"submitted": 40, "accepted": 40, "rejected": 0, "dedup_skipped": 0, "inserted": 40, "updated": 0, "unchanged": 0, "archived": 0, "replaced_in_file": 0, "replaced": []}
    assert body["status"] == "processing" and body["ingestion_id"]
    assert body["metadata"]["file_hash"].startswith("sha256:")
    staged = vector_collection_name(owner.tenant_id, collection_id, 2)
    assert backend.index.collection_exists(staged)

    # the live generation is untouched and still what everyone sees
    assert live_batches(session, collection_id) == {"blue": 30}
    assert backend.index.resolve_alias(alias) == vector_collection_name(owner.tenant_id, collection_id, 1)

    status = (await portal.get(f"{base(name)}/replace-status", headers=owner.headers)).json()
    assert status == {
        "has_pending_replace": True,
        "staging_generation": 2,
        "staging_status": "staging",
        "total": 40,
        "indexed": 0,
        "pending": 40,
        "processing": 0,
        "failed": 0,
        "ready_to_swap": False,
    }
    early = await portal.post(f"{base(name)}/swap", headers=owner.headers)
    assert early.status_code == 409
    assert "not fully indexed" in early.json()["detail"]

    assert index_generation(session, backend.index, owner.tenant_id, name, 2) == 40
    status = (await portal.get(f"{base(name)}/replace-status", headers=owner.headers)).json()
    assert (status["indexed"], status["pending"], status["ready_to_swap"]) == (40, 0, True)
    assert vector_batches(backend.index, alias) == {"blue"}

    swapped = await portal.post(f"{base(name)}/swap", headers=owner.headers)
    assert swapped.status_code == 200, swapped.text
    assert swapped.json() == {
        "vertical": name,
        "old_generation": 1,
        "new_generation": 2,
        "old_entity_count": 30,
        "new_entity_count": 40,
    }
    assert active_generation(session, collection_id) == 2
    assert live_batches(session, collection_id) == {"green": 40}
    assert backend.index.resolve_alias(alias) == staged
    assert vector_batches(backend.index, alias) == {"green"}

    after = (await portal.get(f"{base(name)}/replace-status", headers=owner.headers)).json()
    assert after["has_pending_replace"] is False
    assert all(value is None for key, value in after.items() if key != "has_pending_replace")
    again = await portal.post(f"{base(name)}/swap", headers=owner.headers)
    assert again.status_code == 409
    assert "No staging generation" in again.json()["detail"]

    # the old generation's records are archived afterwards, in batches
    assert generations.archive_generation_records(session, collection_id, 1, batch_size=7) == 30
    counts = session.execute(
        sa.text("SELECT generation, status, count(*) FROM records WHERE collection_id = :c GROUP BY 1, 2"),
        {"c": collection_id},
    ).all()
    assert sorted(counts) == [(1, "archived", 30), (2, "active", 40)]


async def test_cancel_archives_staging_and_drops_its_vectors(
    portal: httpx.AsyncClient, owner: TenantKey, session: Session, backend: Backend
) -> None:
    name = vertical_name()
    collection_id = seed_live_vertical(session, backend.index, owner.tenant_id, name, rows_for("blue", 10))
    started = await portal.post(
        f"{base(name)}/replace",
        params={"entity_type": "product"},
        files=upload("green", 12),
        headers=owner.headers,
    )
    assert started.status_code == 200, started.text
    staged = vector_collection_name(owner.tenant_id, collection_id, 2)
    index_generation(session, backend.index, owner.tenant_id, name, 2)

    cancelled = await portal.post(f"{base(name)}/cancel-replace", headers=owner.headers)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json() == {"vertical": name, "cancelled_generation": 2, "entities_archived": 12}
    assert not backend.index.collection_exists(staged)
    assert live_batches(session, collection_id) == {"blue": 10}
    alias = vector_alias_name(owner.tenant_id, collection_id)
    assert vector_batches(backend.index, alias) == {"blue"}
    status = session.execute(
        sa.text(
            "SELECT status, vectors_dropped_at IS NOT NULL FROM generations WHERE collection_id = :c AND number = 2"
        ),
        {"c": collection_id},
    ).one()
    session.commit()
    assert tuple(status) == ("cancelled", True)

    assert (await portal.post(f"{base(name)}/cancel-replace", headers=owner.headers)).status_code == 409
    assert (await portal.post(f"{base(name)}/swap", headers=owner.headers)).status_code == 409
    # a new replace takes the next number; the cancelled one is never reused
    again = await portal.post(
        f"{base(name)}/replace",
        params={"entity_type": "product"},
        files=upload("red", 3),
        headers=owner.headers,
    )
    assert again.status_code == 200
    assert again.json()["staging"]["generation"] == 3


async def test_error_statuses(
    portal: httpx.AsyncClient, owner: TenantKey, session: Session, backend: Backend
) -> None:
    name = vertical_name()
    collection_id = seed_live_vertical(session, backend.index, owner.tenant_id, name, rows_for("blue", 5))
    ok = {"entity_type": "product"}

    unknown = await portal.post(
        f"{base('nope')}/replace", params=ok, files=upload("x", 1), headers=owner.headers
    )
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "NOT_FOUND" and unknown.json()["detail"]
    for route in ("replace-status",):
        assert (await portal.get(f"{base('nope')}/{route}", headers=owner.headers)).status_code == 404
    for route in ("swap", "cancel-replace"):
        assert (await portal.post(f"{base('nope')}/{route}", headers=owner.headers)).status_code == 404

    missing_type = await portal.post(f"{base(name)}/replace", files=upload("x", 1), headers=owner.headers)
    assert missing_type.status_code == 422
    assert "entity_type" in missing_type.json()["detail"]
    blank_type = await portal.post(
        f"{base(name)}/replace", params={"entity_type": "  "}, files=upload("x", 1), headers=owner.headers
    )
    assert blank_type.status_code == 422
    bad_json = await portal.post(
        f"{base(name)}/replace",
        params=ok,
        files={"file": ("broken.json", b'[{"name": "a"}, {"name": ', "application/json")},
        headers=owner.headers,
    )
    assert bad_json.status_code == 422, bad_json.text
    assert bad_json.json()["error"]["code"] == "VALIDATION_ERROR"
    no_file = await portal.post(
        f"{base(name)}/replace",
        params=ok,
        files={"other": ("a.csv", b"name\nx\n", "text/csv")},
        headers=owner.headers,
    )
    assert no_file.status_code == 422

    # quota: other verticals' entities + the new rows must fit the plan
    seed_live_vertical(session, backend.index, owner.tenant_id, vertical_name(), rows_for("other", 6))
    session.execute(sa.text("UPDATE tenants SET entity_limit = 10 WHERE id = :t"), {"t": owner.tenant_id})
    session.commit()
    over = await portal.post(
        f"{base(name)}/replace", params=ok, files=upload("green", 5), headers=owner.headers
    )
    assert over.status_code == 402
    assert over.json()["error"]["code"] == "QUOTA_EXCEEDED"
    # nothing was written: no staging generation, no vector collection
    assert (await portal.get(f"{base(name)}/replace-status", headers=owner.headers)).json()[
        "has_pending_replace"
    ] is False
    assert not backend.index.collection_exists(vector_collection_name(owner.tenant_id, collection_id, 2))
    fits = await portal.post(
        f"{base(name)}/replace", params=ok, files=upload("green", 4), headers=owner.headers
    )
    assert fits.status_code == 200, fits.text  # 6 elsewhere + 4 new; the replaced 5 do not count

    second = await portal.post(
        f"{base(name)}/replace", params=ok, files=upload("red", 1), headers=owner.headers
    )
    assert second.status_code == 409
    assert second.json()["detail"] == f"Replace already in progress for vertical '{name}'"

    anonymous = await portal.get(f"{base(name)}/replace-status")
    assert anonymous.status_code == 401


async def test_uploads_over_the_limit_get_413(
    portal: httpx.AsyncClient, owner: TenantKey, session: Session, backend: Backend
) -> None:
    from api.uploads import upload_body_limit

    body_limit = upload_body_limit(backend.settings)
    name = vertical_name()
    seed_live_vertical(session, backend.index, owner.tenant_id, name, rows_for("blue", 2))
    limit = backend.settings.max_upload_bytes
    assert limit == 50 * 1024 * 1024
    header = b"name,batch\n"
    just_over = header + b"x,big\n" * ((limit - len(header)) // 6 + 1)
    assert limit < len(just_over) < body_limit
    response = await portal.post(
        f"{base(name)}/replace",
        params={"entity_type": "product"},
        files={"file": ("big.csv", just_over, "text/csv")},
        headers=owner.headers,
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    far_over = b"y" * (body_limit + 1)
    response = await portal.post(
        f"{base(name)}/replace",
        params={"entity_type": "product"},
        files={"file": ("huge.csv", far_over, "text/csv")},
        headers=owner.headers,
    )
    assert response.status_code == 413
    assert response.json()["detail"]
    status = (await portal.get(f"{base(name)}/replace-status", headers=owner.headers)).json()
    assert status["has_pending_replace"] is False


async def test_other_tenants_verticals_are_invisible(
    portal: httpx.AsyncClient, owner: TenantKey, stranger: TenantKey, session: Session, backend: Backend
) -> None:
    name = vertical_name()
    collection_id = seed_live_vertical(session, backend.index, owner.tenant_id, name, rows_for("blue", 5))
    started = await portal.post(
        f"{base(name)}/replace",
        params={"entity_type": "product"},
        files=upload("green", 5),
        headers=owner.headers,
    )
    assert started.status_code == 200
    index_generation(session, backend.index, owner.tenant_id, name, 2)

    h = stranger.headers
    assert (await portal.get(f"{base(name)}/replace-status", headers=h)).status_code == 404
    assert (await portal.post(f"{base(name)}/swap", headers=h)).status_code == 404
    assert (await portal.post(f"{base(name)}/cancel-replace", headers=h)).status_code == 404
    other = await portal.post(
        f"{base(name)}/replace", params={"entity_type": "product"}, files=upload("evil", 5), headers=h
    )
    assert other.status_code == 404
    # the owner's replace is exactly as it was
    status = (await portal.get(f"{base(name)}/replace-status", headers=owner.headers)).json()
    assert (status["staging_generation"], status["total"], status["ready_to_swap"]) == (2, 5, True)
    assert active_generation(session, collection_id) == 1


async def test_portal_jwt_is_accepted(
    portal: httpx.AsyncClient, owner: TenantKey, session: Session, backend: Backend
) -> None:
    name = vertical_name()
    seed_live_vertical(session, backend.index, owner.tenant_id, name, rows_for("blue", 3))
    token = await portal.post("/api/v1/auth/token", headers=owner.headers)
    assert token.status_code == 201, token.text
    jwt = {"Authorization": f"Bearer {token.json()['data']['token']}"}
    started = await portal.post(
        f"{base(name)}/replace", params={"entity_type": "product"}, files=upload("green", 3), headers=jwt
    )
    assert started.status_code == 200, started.text
    assert (await portal.get(f"{base(name)}/replace-status", headers=jwt)).json()["total"] == 3
    assert (await portal.post(f"{base(name)}/cancel-replace", headers=jwt)).status_code == 200
    bad = {"Authorization": "Bearer not-a-token"}
    assert (await portal.get(f"{base(name)}/replace-status", headers=bad)).status_code == 401


async def test_auto_promote_switch(
    portal: httpx.AsyncClient, owner: TenantKey, session: Session, backend: Backend
) -> None:
    name = vertical_name()
    collection_id = seed_live_vertical(session, backend.index, owner.tenant_id, name, rows_for("blue", 2))
    on = await portal.put(f"{base(name)}/auto-promote", json={"enabled": True}, headers=owner.headers)
    assert on.status_code == 200
    assert on.json() == {"vertical": name, "auto_promote": True}
    stored = session.execute(
        sa.text("SELECT settings FROM collections WHERE id = :c"), {"c": collection_id}
    ).scalar()
    session.commit()
    assert stored["auto_promote"] is True
