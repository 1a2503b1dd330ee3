"""Real pieces for the embedding and hybrid tests: both vector backends, tenants with ingested
records, the local model, a loopback OpenAI-compatible embeddings server that can be told to fail,
and queue inspection."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.embeddings.base import EmbeddingProvider
from core.embeddings.local_minilm import LocalMiniLMProvider
from core.embeddings.pipeline import PipelineOptions, PipelineReport, run_embedding_pipeline
from core.ingestion import ingest_records
from core.settings import Settings
from core.tenants.service import create_tenant
from core.vectors.base import VectorIndex

#: texts containing this are refused by the loopback server with a 400 (a permanent failure)
REFUSED_MARKER = "REFUSE-ME"


@dataclass(frozen=True)
class Backend:
    name: str
    settings: Settings
    index: VectorIndex


@dataclass(frozen=True)
class Seeded:
    tenant_id: uuid.UUID
    collection_id: uuid.UUID
    name: str


def new_tenant(session: Session, prefix: str = "emb") -> uuid.UUID:
    tenant = create_tenant(session, f"{prefix}-{uuid.uuid4().hex[:8]}")
    session.commit()
    return tenant.id


def seed(
    session: Session,
    rows: Sequence[dict[str, Any]],
    *,
    tenant_id: uuid.UUID | None = None,
    name: str | None = None,
    entity_type: str = "product",
) -> Seeded:
    """A tenant's collection holding `rows` (committed, embedding pending)."""
    tenant_id = tenant_id or new_tenant(session)
    name = name or f"c{uuid.uuid4().hex[:8]}"
    result = ingest_records(
        session,
        tenant_id=tenant_id,
        collection_name=name,
        records=rows,
        entity_type=entity_type,
        source_type="test",
    )
    session.commit()
    return Seeded(tenant_id, result.collection_id, name)


def statuses(session: Session, collection_id: uuid.UUID) -> dict[str, int]:
    rows = session.execute(
        sa.text("SELECT embedding_status, count(*) FROM records WHERE collection_id = :c GROUP BY 1"),
        {"c": collection_id},
    ).all()
    session.commit()
    return {status: int(n) for status, n in rows}


def record_states(session: Session, collection_id: uuid.UUID) -> dict[str, tuple[str, int, str | None]]:
    """name -> (embedding_status, attempts, error)."""
    rows = session.execute(
        sa.text(
            "SELECT name, embedding_status, embedding_attempts, embedding_error FROM records WHERE collection_id = :c"
        ),
        {"c": collection_id},
    ).all()
    session.commit()
    return {r.name: (r.embedding_status, r.embedding_attempts, r.embedding_error) for r in rows}


def make_due(session: Session, collection_id: uuid.UUID) -> None:
    """Let backoff delays pass (the tests never wait on the clock)."""
    session.execute(
        sa.text(
            "UPDATE records SET embedding_next_attempt_at = now() - interval '1 second' "
            "WHERE collection_id = :c AND embedding_next_attempt_at IS NOT NULL"
        ),
        {"c": collection_id},
    )
    session.commit()


def embed(
    engine: sa.Engine, seeded: Seeded, provider: EmbeddingProvider, index: VectorIndex, **options: Any
) -> PipelineReport:
    return run_embedding_pipeline(
        engine,
        seeded.tenant_id,
        seeded.collection_id,
        provider=provider,
        index=index,
        options=PipelineOptions(**options),
    )


class EmbeddingServer(ThreadingHTTPServer):
    """A real `/v1/embeddings` endpoint on loopback computing vectors with the local model."""

    model: LocalMiniLMProvider
    api_key: str | None = None  # when set, requests without `Bearer <api_key>` get a 401
    fail_next: int = 0  # answer this many requests with 503
    requests: list[dict]  # every request body, in arrival order

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _Handler(BaseHTTPRequestHandler):
    server: EmbeddingServer

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(body)
        if self.path != "/v1/embeddings":
            return self._send(404, {"error": {"message": "no such route"}})
        if self.server.api_key is not None and self.headers.get("Authorization") != f"Bearer {self.server.api_key}":
            return self._send(401, {"error": {"message": "Incorrect API key provided"}})
        if self.server.fail_next:
            self.server.fail_next -= 1
            return self._send(503, {"error": {"message": "model overloaded"}})
        if any(REFUSED_MARKER in text for text in body["input"]):
            return self._send(400, {"error": {"message": "input violates the content policy"}})
        vectors = self.server.model.embed(body["input"])
        # answer out of order, as the protocol allows: clients must use `index`
        data = [{"object": "embedding", "index": i, "embedding": v.tolist()} for i, v in enumerate(vectors)]
        self._send(200, {"object": "list", "model": body["model"], "data": data[::-1], "usage": {}})


def serve_embeddings(model: LocalMiniLMProvider) -> Iterator[EmbeddingServer]:
    httpd = EmbeddingServer(("127.0.0.1", 0), _Handler)
    httpd.model, httpd.requests = model, []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
