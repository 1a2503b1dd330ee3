"""Store retrieval in PostgreSQL: chunks are matched without joining their files, so these tests pin
what the chunk's own flags must follow (exclude, include, delete, not yet in the store, the account
scope, another tenant) in every mode, and that the migration carries existing exclusions over."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import command
from sqlalchemy.orm import Session

from core.db.embedded import ensure_database
from core.db.migrate import alembic_config, upgrade
from core.db.models import FileChunk, StoredFile
from core.db.urls import sync_url
from core.documents.retrieval import retrieve
from core.documents.store import apply_action
from core.documents.vectors import ensure_store_collection
from core.embeddings.factory import get_embedding_provider
from core.settings import Settings
from core.tenants.service import create_account, create_tenant
from core.vectors.factory import get_vector_index

WORDS = "the harbour master opens the lock gates two hours before high tide"


def _file(session: Session, tenant_id: uuid.UUID, account_id: uuid.UUID, name: str, text: str, *,
          in_store: bool = True) -> uuid.UUID:
    stored = StoredFile(id=uuid.uuid4(), tenant_id=tenant_id, account_id=account_id, name=name,
                        content_type="text/plain", size_bytes=len(text), sha256=uuid.uuid4().hex * 2,
                        storage_key=uuid.uuid4().hex, status="active" if in_store else "uploaded",
                        in_store=in_store, excluded=False, chunk_count=1)
    session.add(stored)
    session.flush()
    session.execute(sa.insert(FileChunk), [{"id": uuid.uuid4(), "tenant_id": tenant_id, "file_id": stored.id,
                                            "ordinal": 0, "page": 1, "text": text, "tokens": 12}])
    return stored.id


def _found(session: Session, tenant_id: uuid.UUID, query: str = "lock gates high tide", **kw) -> set[uuid.UUID]:
    return {uuid.UUID(c.file_id) for c in retrieve(session, tenant_id, query, **kw)}


def test_full_text_follows_exclusion_deletion_accounts_and_tenants_at_once(db: Session) -> None:
    tenant = create_tenant(db, f"retrieval-{uuid.uuid4().hex[:8]}")
    stranger = create_tenant(db, f"retrieval-other-{uuid.uuid4().hex[:8]}")
    ada = create_account(db, tenant.id, f"ada-{uuid.uuid4().hex[:6]}@example.com")
    bob = create_account(db, tenant.id, f"bob-{uuid.uuid4().hex[:6]}@example.com")
    eve = create_account(db, stranger.id, f"eve-{uuid.uuid4().hex[:6]}@example.com")
    harbour = _file(db, tenant.id, ada.id, "harbour.txt", WORDS)
    tides = _file(db, tenant.id, bob.id, "tides.txt", "high tide closes the lock gates at the harbour")
    vault_only = _file(db, tenant.id, ada.id, "draft.txt", WORDS, in_store=False)
    theirs = _file(db, stranger.id, eve.id, "theirs.txt", WORDS)

    for mode in ("fulltext", "hybrid"):  # no vectors yet: hybrid answers with full text
        assert _found(db, tenant.id, mode=mode) == {harbour, tides}
    hit = retrieve(db, tenant.id, "harbour master", mode="fulltext")[0]
    assert (hit.file_id, hit.file_name, hit.account_id, hit.page) == (str(harbour), "harbour.txt", str(ada.id), 1)
    assert "harbour master" in hit.text and 0 < hit.score < 1
    assert _found(db, tenant.id, account_id=bob.id, mode="fulltext") == {tides}
    assert _found(db, tenant.id, account_id=eve.id, mode="fulltext") == set()
    assert _found(db, tenant.id, file_ids=[tides, theirs], mode="fulltext") == {tides}
    assert _found(db, stranger.id, mode="fulltext") == {theirs}

    results, _ = apply_action(db, tenant.id, "exclude", [harbour])
    assert results[0].ok
    assert _found(db, tenant.id, mode="fulltext") == {tides}
    assert _found(db, tenant.id, mode="hybrid") == {tides}
    assert _found(db, stranger.id, mode="fulltext") == {theirs}  # the same words elsewhere are untouched
    apply_action(db, tenant.id, "include", [harbour])
    assert _found(db, tenant.id, mode="fulltext") == {harbour, tides}

    apply_action(db, tenant.id, "delete", [tides])
    assert _found(db, tenant.id, mode="fulltext") == {harbour}
    db.execute(sa.update(StoredFile).where(StoredFile.id == vault_only).values(in_store=True))
    assert _found(db, tenant.id, mode="fulltext") == {harbour, vault_only}  # queued into the store


def test_hybrid_passes_over_excluded_files_the_vectors_still_hold(db: Session, app_settings: Settings) -> None:
    tenant = create_tenant(db, f"retrieval-vectors-{uuid.uuid4().hex[:8]}")
    ada = create_account(db, tenant.id, f"ada-{uuid.uuid4().hex[:6]}@example.com")
    texts = {"lock.txt": WORDS, "tide.txt": "a tide table for the harbour", "menu.txt": "soup of the day"}
    files = {name: _file(db, tenant.id, ada.id, name, text) for name, text in texts.items()}
    chunks = dict(db.execute(sa.select(FileChunk.file_id, FileChunk.id)
                             .where(FileChunk.file_id.in_(list(files.values())))).all())
    provider, index = get_embedding_provider(app_settings), get_vector_index(app_settings)
    collection = ensure_store_collection(index, tenant.id, provider.dimension)
    index.upsert(collection, [chunks[files[n]] for n in texts], provider.embed(list(texts.values())),
                 [{"file_id": str(files[n]), "account_id": str(ada.id)} for n in texts])

    query = "when do the lock gates open before high tide"
    assert [c.file_name for c in retrieve(db, tenant.id, query, limit=1)] == ["lock.txt"]
    apply_action(db, tenant.id, "exclude", [files["lock.txt"]])
    # the vector index still ranks the excluded chunk first; the next visible one takes its place
    for mode in ("hybrid", "semantic"):
        assert [c.file_name for c in retrieve(db, tenant.id, query, limit=1, mode=mode)] == ["tide.txt"]
    assert "lock.txt" not in {c.file_name for c in retrieve(db, tenant.id, query, limit=3, mode="semantic")}


def test_the_migration_keeps_excluded_files_out_of_retrieval(pg_server_url: str) -> None:
    url = ensure_database(pg_server_url, f"kariz_chunk_flags_{uuid.uuid4().hex[:8]}")
    command.upgrade(alembic_config(url), "0016_chat")
    engine = sa.create_engine(sync_url(url))
    try:
        with Session(engine) as session:
            tenant = create_tenant(session, "migrated")
            account = create_account(session, tenant.id, "a@example.com")
            session.commit()
            ids = {"tenant": tenant.id, "account": account.id}
        ids.update({name: uuid.uuid4() for name in ("kept", "excluded", "chunk1", "chunk2")})
        with engine.begin() as conn:
            for file_key, chunk_key, excluded in (("kept", "chunk1", False), ("excluded", "chunk2", True)):
                conn.execute(sa.text(
                    "INSERT INTO files (id, tenant_id, account_id, name, content_type, size_bytes, sha256, "
                    "storage_key, status, in_store, excluded, chunk_count) VALUES (:f, :tenant, :account, :n, "
                    "'text/plain', 10, :sha, :n, 'active', true, :x, 1)"),
                    {**ids, "f": ids[file_key], "n": file_key, "sha": ids[file_key].hex * 2, "x": excluded})
                conn.execute(sa.text(
                    "INSERT INTO file_chunks (id, tenant_id, file_id, ordinal, text, tokens) "
                    "VALUES (:c, :tenant, :f, 0, :t, 12)"), {**ids, "c": ids[chunk_key], "f": ids[file_key], "t": WORDS})
        upgrade(url)
        with Session(engine) as session:
            assert _found(session, ids["tenant"], mode="fulltext") == {ids["kept"]}
            assert _found(session, ids["tenant"], account_id=ids["account"], mode="fulltext") == {ids["kept"]}
    finally:
        engine.dispose()
        admin = sa.create_engine(sync_url(pg_server_url), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{sa.engine.make_url(sync_url(url)).database}"'))
        admin.dispose()
