"""RAG store sync throughput (pages/s, chunks/s) beside the bare embedding model on the same chunks.

The corpus is real documentation that Debian packages install under /usr/share/doc: every PDF there
plus Markdown and text files, up to `--max-bytes` of the latter. The files go into a fresh tenant's vault on a
fresh embedded PostgreSQL, one sync operation serves them all (`core.documents.sync.run_operation`:
read, detect, extract, chunk, embed, write vectors and chunks, audit) and the time is measured end
to end. The baseline is the same model object embedding exactly the chunk texts the sync wrote, in
the same batch size, with nothing else: no extraction, no chunking, no database, no vector store.

    .venv/bin/python bench/store_sync.py [--max-bytes 150000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from core.db.embedded import ensure_database, start_embedded_server, stop_embedded_server  # noqa: E402
from core.db.engine import make_sync_engine  # noqa: E402
from core.db.migrate import upgrade  # noqa: E402
from core.documents import store, vault  # noqa: E402
from core.documents.sync import EMBED_BATCH, run_operation  # noqa: E402
from core.embeddings.local_minilm import LocalMiniLMProvider  # noqa: E402
from core.files.local import LocalFileStore  # noqa: E402
from core.tenants.service import create_account, create_tenant  # noqa: E402
from core.vectors.pgvector import PgVectorIndex  # noqa: E402

DOC_ROOT = Path("/usr/share/doc")


def corpus(max_bytes: int) -> list[Path]:
    """Every PDF, plus Markdown and text files (in path order) up to `max_bytes` of them."""
    pdfs = sorted(DOC_ROOT.rglob("*.pdf"))
    texts = sorted(p for p in DOC_ROOT.rglob("*") if p.suffix in (".md", ".txt") and p.is_file()
                   and not p.is_symlink() and 200 < p.stat().st_size < 200_000)
    chosen, total = list(pdfs), 0
    for path in texts:
        size = path.stat().st_size
        if total + size <= max_bytes:
            chosen.append(path)
            total += size
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-bytes", type=int, default=150_000)
    args = parser.parse_args()
    files = corpus(args.max_bytes)
    with tempfile.TemporaryDirectory() as tmp:
        server = start_embedded_server(Path(tmp) / "pg")
        try:
            url = ensure_database(server, "bench_store")
            upgrade(url)
            engine = make_sync_engine(url)
            provider = LocalMiniLMProvider()
            index = PgVectorIndex(url)
            file_store = LocalFileStore(Path(tmp) / "files")
            with Session(engine) as session:
                tenant = create_tenant(session, f"bench-{uuid.uuid4().hex[:6]}")
                session.execute(sa.text("UPDATE tenants SET storage_limit_bytes = 10000000000 WHERE id = :t"),
                                {"t": tenant.id})
                account = create_account(session, tenant.id, "bench@example.com")
                ids = []
                for path in files:
                    up = vault.upload_file(session, tenant.id, account.id, path.read_bytes(), path.name,
                                           store=file_store, max_bytes=50 * 1024 * 1024)
                    ids.append(up.file.id)
                op = store.queue_operation(session, tenant.id, ids)
                session.commit()
                tenant_id, op_id = tenant.id, op.id
            provider.embed(["warm up the model"])
            started = time.perf_counter()
            report = run_operation(engine, op_id, provider=provider, index=index, files=file_store)
            sync_s = time.perf_counter() - started
            with Session(engine) as session:
                texts = list(session.execute(sa.text(
                    "SELECT text FROM file_chunks WHERE tenant_id = :t ORDER BY file_id, ordinal"), {"t": tenant_id}
                ).scalars())
            started = time.perf_counter()
            for i in range(0, len(texts), EMBED_BATCH):
                provider.embed(texts[i : i + EMBED_BATCH])
            model_s = time.perf_counter() - started
            index.close()
            engine.dispose()
        finally:
            stop_embedded_server(Path(tmp) / "pg")
    size = sum(p.stat().st_size for p in files)
    print(f"corpus: {len(files)} files from {DOC_ROOT} ({size / 1e6:.2f} MB), {report.synced} synced, "
          f"{report.failed} failed, {report.pages} pages, {report.chunks} chunks")
    print(f"sync end to end: {sync_s:.1f} s = {report.pages / sync_s:.1f} pages/s, {report.chunks / sync_s:.1f} chunks/s")
    print(f"bare model on the same {len(texts)} chunks: {model_s:.1f} s = {len(texts) / model_s:.1f} chunks/s")
    print(f"ratio (sync chunks/s / model chunks/s): {model_s / sync_s:.2f}")


if __name__ == "__main__":
    main()
