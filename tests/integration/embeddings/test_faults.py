"""Faults: a provider that fails for a while or refuses an input, a vector store that goes away
mid-run or is never there, a run killed with SIGKILL. Records are never lost and never stuck."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.db.embedded import ensure_database, start_embedded_server, stop_embedded_server
from core.db.migrate import upgrade
from core.embeddings.base import EmbeddingProvider
from core.embeddings.local_minilm import LocalMiniLMProvider
from core.embeddings.openai_http import OpenAICompatibleProvider
from core.embeddings.pipeline import PipelineOptions
from core.embeddings.queue import claim_batch
from core.settings import REPO_ROOT
from core.vectors.base import vector_collection_name
from core.vectors.pgvector import PgVectorIndex
from core.vectors.qdrant import QdrantIndex
from tests.integration.embeddings.harness import (
    REFUSED_MARKER,
    Backend,
    EmbeddingServer,
    embed,
    make_due,
    record_states,
    seed,
    statuses,
)

ROWS = [{"name": f"valve {i}", "size": f"DN{10 + i}"} for i in range(6)]


def remote(server: EmbeddingServer) -> OpenAICompatibleProvider:
    return OpenAICompatibleProvider(server.url, "all-MiniLM-L6-v2")


def test_transient_provider_failure_backs_off_then_succeeds(
    backend: Backend, session: Session, sync_engine: sa.Engine, embedding_server: EmbeddingServer
) -> None:
    seeded = seed(session, ROWS)
    embedding_server.fail_next = 1

    first = embed(sync_engine, seeded, remote(embedding_server), backend.index, retry_base_s=3600)

    assert first.stopped is not None and "overloaded" in first.stopped
    assert (first.claimed, first.indexed, first.retried) == (6, 0, 6)
    states = record_states(session, seeded.collection_id)
    assert {s for s, _, _ in states.values()} == {"pending"}  # waiting, not lost, not failed
    assert all(attempts == 1 and "model overloaded" in error for _, attempts, error in states.values())
    # the backoff holds: a run right away finds nothing due
    assert embed(sync_engine, seeded, remote(embedding_server), backend.index).claimed == 0

    make_due(session, seeded.collection_id)
    second = embed(sync_engine, seeded, remote(embedding_server), backend.index)

    assert (second.indexed, second.stopped) == (6, None)
    assert statuses(session, seeded.collection_id) == {"indexed": 6}
    assert all(error is None for _, _, error in record_states(session, seeded.collection_id).values())


def test_records_fail_with_the_reason_once_retries_are_used_up(
    backend: Backend, session: Session, sync_engine: sa.Engine, embedding_server: EmbeddingServer
) -> None:
    seeded = seed(session, ROWS)
    embedding_server.fail_next = 1_000

    embed(sync_engine, seeded, remote(embedding_server), backend.index, max_attempts=2)
    make_due(session, seeded.collection_id)
    last = embed(sync_engine, seeded, remote(embedding_server), backend.index, max_attempts=2)

    assert last.failed == 6
    states = record_states(session, seeded.collection_id)
    assert all(s == "failed" and a == 2 and "model overloaded" in e for s, a, e in states.values())
    assert embed(sync_engine, seeded, remote(embedding_server), backend.index).claimed == 0  # failed is final


def test_a_refused_input_fails_alone_and_at_once(
    backend: Backend, session: Session, sync_engine: sa.Engine, embedding_server: EmbeddingServer
) -> None:
    rows = [*ROWS, {"name": f"bad record {REFUSED_MARKER}", "size": "DN99"}]
    seeded = seed(session, rows)

    report = embed(sync_engine, seeded, remote(embedding_server), backend.index, batch_size=7)

    assert (report.indexed, report.failed, report.retried, report.stopped) == (6, 1, 0, None)
    status, attempts, error = record_states(session, seeded.collection_id)[f"bad record {REFUSED_MARKER}"]
    assert (status, attempts) == ("failed", 1)
    assert "content policy" in error
    assert backend.index.count(vector_collection_name(seeded.tenant_id, seeded.collection_id, 1)) == 6


class CallHook(EmbeddingProvider):
    """The real model, with an action run just before its `nth` call (to break something mid-run)."""

    def __init__(self, inner: EmbeddingProvider, nth: int, action: Callable[[], None]) -> None:
        self.inner, self.nth, self.action, self.calls = inner, nth, action, 0
        self.model_name, self.dimension, self.max_tokens = inner.model_name, inner.dimension, inner.max_tokens

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        if self.calls == self.nth:
            self.action()
        return self.inner.embed(texts)


@pytest.fixture
def vector_server(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A second PostgreSQL server holding only the vectors, so it can go away while records stay."""
    pg_dir = tmp_path / "vectors-pg"
    url = ensure_database(start_embedded_server(pg_dir), "vectors")
    upgrade(url)
    yield pg_dir, url
    stop_embedded_server(pg_dir)


def test_vector_store_gone_mid_run_loses_nothing_and_the_next_run_resumes(
    session: Session, sync_engine: sa.Engine, model: LocalMiniLMProvider, vector_server: tuple[Path, str]
) -> None:
    pg_dir, url = vector_server
    index = PgVectorIndex(url)
    rows = [{"name": f"gasket {i}", "material": "EPDM"} for i in range(40)]
    seeded = seed(session, rows)
    provider = CallHook(model, 3, lambda: stop_embedded_server(pg_dir))

    first = embed(sync_engine, seeded, provider, index, batch_size=8, store_retry_s=0)

    assert first.stopped is not None and "vector store unavailable" in first.stopped
    counts = statuses(session, seeded.collection_id)
    assert "processing" not in counts  # handed back, not stuck
    assert counts["indexed"] >= 8 and counts["indexed"] + counts["pending"] == 40
    assert all(a == 0 for s, a, _ in record_states(session, seeded.collection_id).values() if s == "pending")

    start_embedded_server(pg_dir)  # the store is back
    second = embed(sync_engine, seeded, model, index, batch_size=8)

    assert second.stopped is None and second.indexed == counts["pending"]
    assert statuses(session, seeded.collection_id) == {"indexed": 40}
    assert index.count(vector_collection_name(seeded.tenant_id, seeded.collection_id, 1)) == 40
    index.close()


def test_unreachable_qdrant_leaves_records_pending(
    session: Session, sync_engine: sa.Engine, model: LocalMiniLMProvider
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    index = QdrantIndex(f"http://127.0.0.1:{port}")
    seeded = seed(session, ROWS)

    report = embed(sync_engine, seeded, model, index)

    assert report.stopped is not None and "vector store unavailable" in report.stopped
    assert statuses(session, seeded.collection_id) == {"pending": 6}


_CHILD = """
import sys, uuid
from core.embeddings.openai_http import OpenAICompatibleProvider
from core.embeddings.pipeline import PipelineOptions
from core.embeddings.queue import claim_batch
from core.embeddings.pipeline import PipelineOptions, run_embedding_pipeline
from core.db.engine import make_sync_engine
from core.vectors.pgvector import PgVectorIndex
url, tenant, collection, endpoint = sys.argv[1:5]
provider = OpenAICompatibleProvider(endpoint, "m", timeout_s=600)
run_embedding_pipeline(make_sync_engine(url), uuid.UUID(tenant), uuid.UUID(collection), provider=provider,
                       index=PgVectorIndex(url), options=PipelineOptions(batch_size=100))
"""


def test_a_killed_run_leaves_nothing_stuck_in_processing(
    session: Session, sync_engine: sa.Engine, model: LocalMiniLMProvider, database_url: str
) -> None:
    seeded = seed(session, ROWS)
    with socket.socket() as silent:  # accepts connections, never answers: the run hangs mid-batch
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        endpoint = f"http://127.0.0.1:{silent.getsockname()[1]}/v1"
        child = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _CHILD,
                database_url,
                str(seeded.tenant_id),
                str(seeded.collection_id),
                endpoint,
            ],
            cwd=REPO_ROOT,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        )
        try:
            deadline = time.monotonic() + 120
            while statuses(session, seeded.collection_id).get("processing", 0) < 6:
                assert child.poll() is None, "the run ended before it was killed"
                assert time.monotonic() < deadline, "the run never claimed its batch"
                time.sleep(0.1)
            child.send_signal(signal.SIGKILL)
            child.wait()
        finally:
            if child.poll() is None:
                child.kill()
    index = PgVectorIndex(database_url)
    assert statuses(session, seeded.collection_id) == {"processing": 6}

    # a fresh claim belongs to a live run as far as anyone can tell: it is not taken early
    assert embed(sync_engine, seeded, model, index).claimed == 0
    # once the claim is older than the timeout, the next run takes the rows over
    session.execute(
        sa.text(
            "UPDATE records SET embedding_claimed_at = embedding_claimed_at - make_interval(secs => :s) "
            "WHERE collection_id = :c"
        ),
        {"s": PipelineOptions().claim_timeout_s + 1, "c": seeded.collection_id},
    )
    session.commit()
    report = embed(sync_engine, seeded, model, index)

    assert report.indexed == 6
    states = record_states(session, seeded.collection_id)
    assert {(s, a) for s, a, _ in states.values()} == {("indexed", 2)}  # the dead run's attempt counted
    index.close()


def test_a_record_whose_runs_keep_dying_fails_instead_of_looping(
    backend: Backend, session: Session, sync_engine: sa.Engine, model: LocalMiniLMProvider
) -> None:
    seeded = seed(session, ROWS[:2])
    for _ in range(2):  # two runs claim the records and die (their claims are then long abandoned)
        with sync_engine.begin() as conn:
            assert (
                claim_batch(conn, seeded.tenant_id, seeded.collection_id, 1, limit=10, claim_timeout_s=0)
                is not None
            )
        session.execute(
            sa.text(
                "UPDATE records SET embedding_claimed_at = now() - interval '1 day' WHERE collection_id = :c"
            ),
            {"c": seeded.collection_id},
        )
        session.commit()

    report = embed(sync_engine, seeded, model, backend.index, max_attempts=2)

    assert (report.failed, report.claimed) == (2, 0)
    states = record_states(session, seeded.collection_id)
    assert all(s == "failed" and "stopped before finishing (2 attempts)" in e for s, _, e in states.values())
