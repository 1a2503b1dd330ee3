"""Every failure point of the swap ends with one generation fully live: the old or the new.

Failure points: the alias move fails; the commit fails after the alias moved (the server ends the
session's connection); the process is killed (SIGKILL) between the alias move and the commit, after
which `reconcile_aliases` (run by the cleanup job) repairs a non-transactional store."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from core import generations
from core.errors import Unavailable
from core.tenants.service import create_tenant
from core.vectors.base import VectorIndex, vector_alias_name, vector_collection_name
from core.vectors.qdrant import QdrantIndex
from tests.integration.generations.conftest import Backend, vertical_name
from tests.integration.generations.seeding import (
    active_generation,
    csv_for,
    index_generation,
    rows_for,
    seed_live_vertical,
)

REPO = Path(__file__).resolve().parents[3]


def staged_vertical(session: Session, index: VectorIndex) -> tuple[uuid.UUID, str, uuid.UUID]:
    """A tenant with a vertical live on generation 1 (blue) and a fully indexed staging generation 2 (green)."""
    tenant = create_tenant(session, f"fault-{uuid.uuid4().hex[:8]}")
    session.commit()
    name = vertical_name()
    collection_id = seed_live_vertical(session, index, tenant.id, name, rows_for("blue", 8))
    generations.start_replace(
        session,
        tenant_id=tenant.id,
        collection_name=name,
        data=csv_for("green", 9),
        filename="green.csv",
        entity_type="product",
        index=index,
    )
    index_generation(session, index, tenant.id, name, 2)
    return tenant.id, name, collection_id


def state(session: Session, index: VectorIndex, tenant_id: uuid.UUID, collection_id: uuid.UUID) -> tuple:
    """(active generation, generation statuses, generation the alias points at)."""
    statuses = dict(
        session.execute(
            sa.text("SELECT number, status FROM generations WHERE collection_id = :c"), {"c": collection_id}
        ).all()
    )
    active = active_generation(session, collection_id)
    target = index.resolve_alias(vector_alias_name(tenant_id, collection_id))
    alias_generation = next(
        (n for n in statuses if target == vector_collection_name(tenant_id, collection_id, n)), None
    )
    return active, statuses, alias_generation


OLD_LIVE = (1, {1: "active", 2: "staging"}, 1)
NEW_LIVE = (2, {1: "archived", 2: "active"}, 2)


class AliasMoveFails:
    """The real index, except that moving an alias fails as an unreachable store would."""

    def __init__(self, index: VectorIndex) -> None:
        self._index = index

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self._index, name)

    def swap_alias(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise Unavailable("vector store unreachable")


def test_alias_move_failure_rolls_the_database_back(session: Session, backend: Backend) -> None:
    tenant_id, name, collection_id = staged_vertical(session, backend.index)
    with pytest.raises(Unavailable):
        generations.swap(session, tenant_id, name, AliasMoveFails(backend.index))  # type: ignore[arg-type]
    assert state(session, backend.index, tenant_id, collection_id) == OLD_LIVE
    # nothing is left locked or half-done: the next swap goes through
    assert generations.swap(session, tenant_id, name, backend.index).new_generation == 2
    assert state(session, backend.index, tenant_id, collection_id) == NEW_LIVE


def test_commit_failure_after_the_alias_moved_puts_the_alias_back(
    session: Session, backend: Backend, sync_engine: sa.Engine
) -> None:
    tenant_id, name, collection_id = staged_vertical(session, backend.index)
    alias = vector_alias_name(tenant_id, collection_id)
    seen: dict[str, str | None] = {}

    def lose_the_connection(s: Session) -> None:
        # at commit time the alias has moved (Qdrant) or is moved inside this transaction (pgvector)
        seen["alias"] = backend.index.resolve_alias(alias)
        pid = s.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
        with sync_engine.connect() as other:
            other.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid})

    event.listen(session, "before_commit", lose_the_connection)
    try:
        with pytest.raises(sa.exc.OperationalError):
            generations.swap(session, tenant_id, name, backend.index)
    finally:
        event.remove(session, "before_commit", lose_the_connection)
    moved_before_commit = vector_collection_name(tenant_id, collection_id, 2)
    if backend.index.transactional_aliases:
        assert seen["alias"] == vector_collection_name(tenant_id, collection_id, 1)  # not visible outside
    else:
        assert seen["alias"] == moved_before_commit
    session.close()
    with Session(sync_engine) as fresh:
        assert state(fresh, backend.index, tenant_id, collection_id) == OLD_LIVE
        assert generations.swap(fresh, tenant_id, name, backend.index).new_generation == 2
        assert state(fresh, backend.index, tenant_id, collection_id) == NEW_LIVE


def test_process_killed_between_alias_move_and_commit(
    session: Session, database_url: str, tmp_path: Path, backend: Backend
) -> None:
    store = backend.name
    location = "pgvector" if store == "pgvector" else str(tmp_path / "qdrant")
    index = backend.index if store == "pgvector" else QdrantIndex(location)
    tenant_id, name, collection_id = staged_vertical(session, index)
    if store == "qdrant":
        index.close()  # local mode: one process at a time opens the folder

    died = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.integration.generations.swap_then_die",
            database_url,
            location,
            str(tenant_id),
            name,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert died.returncode == -9, died.stderr
    assert "alias moved" in died.stdout and "swap finished" not in died.stdout

    if store == "qdrant":
        index = QdrantIndex(location)
    deadline = time.monotonic() + 30
    while True:
        active, statuses, alias_generation = state(session, index, tenant_id, collection_id)
        if statuses == OLD_LIVE[1] or time.monotonic() > deadline:
            break
        time.sleep(0.1)  # the server notices the dead client and rolls its transaction back
    assert (active, statuses) == OLD_LIVE[:2]
    # pgvector: the alias moved inside the aborted transaction, so it never moved; Qdrant: it did
    assert alias_generation == (1 if store == "pgvector" else 2)

    moves: list = []
    while time.monotonic() < deadline:
        moves = generations.reconcile_aliases(session, index)
        if state(session, index, tenant_id, collection_id) == OLD_LIVE:
            break
        time.sleep(0.1)
    assert state(session, index, tenant_id, collection_id) == OLD_LIVE
    assert bool(moves) == (store == "qdrant")
    # and the replace can still be promoted
    assert generations.swap(session, tenant_id, name, index).new_generation == 2
    assert state(session, index, tenant_id, collection_id) == NEW_LIVE
    if store == "qdrant":
        index.close()
