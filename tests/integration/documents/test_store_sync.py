"""The RAG store end to end: files synced (extract, chunk, embed, index), bad files failing alone,
unchanged files skipped, exclusion, deletion, a killed run, and retrieval that never crosses tenants."""

from __future__ import annotations

import uuid

import httpx
import pytest
import sqlalchemy as sa

from core.documents.sync import run_operation
from core.documents.vectors import store_collection_name
from core.embeddings.factory import get_embedding_provider
from core.files import get_file_store
from core.settings import Settings
from core.vectors.factory import get_vector_index
from tests.integration.conftest import TenantKey, register_tenant
from tests.integration.documents.conftest import create_account, replace_stored_bytes, upload
from tests.integration.documents.samples import make_corrupt_docx, make_docx, make_encrypted_pdf, make_pdf

HARBOUR = (
    "# Harbour rules\n\nThe harbour master opens the lock gates two hours before high tide.\n\n"
    "## Mooring\n\nVisiting yachts moor at pontoon C and pay the mooring fee at the office.\n"
)
MANUAL = ["Pump maintenance: replace the impeller every 500 hours.",
          "Bilge alarms must be tested monthly by the engineer on duty."]


def _run(sync_engine: sa.Engine, settings: Settings, operation_id: str, **kw) -> object:
    return run_operation(sync_engine, uuid.UUID(operation_id), provider=get_embedding_provider(settings),
                         index=get_vector_index(settings), files=get_file_store(settings), run_id="test", **kw)


async def _sync(client: httpx.AsyncClient, owner: TenantKey, ids: list[str]) -> str:
    response = await client.post(f"/api/v1/tenants/{owner.tenant_id}/store/sync", headers=owner.headers,
                                 json={"assetIds": ids})
    assert response.status_code == 202, response.text
    data = response.json()["data"]
    assert data["status"] == "in_progress" and data["total"] == len(set(ids))
    return data["operationId"]


async def _query(client: httpx.AsyncClient, owner: TenantKey, query: str, **extra) -> list[dict]:
    response = await client.post(f"/api/v1/tenants/{owner.tenant_id}/store/query", headers=owner.headers,
                                 json={"query": query, **extra})
    assert response.status_code == 200, response.text
    return response.json()["data"]["results"]


def _vector_count(settings: Settings, tenant_id: str) -> int:
    index = get_vector_index(settings)
    name = store_collection_name(uuid.UUID(tenant_id))
    return index.count(name) if index.collection_exists(name) else 0


async def test_sync_indexes_good_files_and_fails_bad_ones_alone(
    live_client: httpx.AsyncClient, sync_engine: sa.Engine, app_settings: Settings
) -> None:
    owner = await register_tenant(live_client, "store")
    account = await create_account(live_client, owner)
    good_md = (await upload(live_client, owner, account, "harbour.md", HARBOUR.encode())).json()["data"]["id"]
    good_pdf = (await upload(live_client, owner, account, "manual.pdf", make_pdf(MANUAL))).json()["data"]["id"]
    good_docx = (await upload(live_client, owner, account, "crew.docx",
                              make_docx(["The cook serves breakfast at seven."], "Crew"))).json()["data"]["id"]
    encrypted = (await upload(live_client, owner, account, "secret.pdf", make_encrypted_pdf())).json()["data"]["id"]
    # a DOCX damaged in the file store after its upload (a damaged one is refused at upload: 422)
    corrupt = (await upload(live_client, owner, account, "broken.docx", make_docx(["fine"]))).json()["data"]["id"]
    await replace_stored_bytes(live_client, app_settings, corrupt, make_corrupt_docx())
    scanned = (await upload(live_client, owner, account, "scan.pdf", make_pdf([""]))).json()["data"]["id"]
    op = await _sync(live_client, owner, [good_md, good_pdf, good_docx, encrypted, corrupt, scanned])

    report = _run(sync_engine, app_settings, op)
    assert report.synced == 3 and report.failed == 3

    base = f"/api/v1/tenants/{owner.tenant_id}/store"
    progress = (await live_client.get(f"{base}/progress", headers=owner.headers)).json()["data"]
    assert progress["status"] == "completed"
    assert progress["operationId"] == op
    assert (progress["processed"], progress["total"], progress["failed"], progress["percent"]) == (6, 6, 3, 100.0)
    assert progress["currentFile"] is None and progress["finishedAt"]

    details = (await live_client.get(base, headers=owner.headers)).json()["data"]
    assert details["counts"] == {"total": 6, "active": 3, "excluded": 0, "pending": 0, "syncing": 0, "failed": 3}
    assert details["lastSync"]["operationId"] == op and details["lastSync"]["status"] == "completed"
    assert details["storage"]["usedBytes"] > 0 and details["storage"]["quotaBytes"] > 0
    by_id = {f["id"]: f for f in details["files"]}
    assert by_id[good_pdf]["pages"] == 2 and by_id[good_pdf]["chunks"] >= 1
    assert "encrypted" in by_id[encrypted]["error"]
    assert details["chunks"] == sum(f["chunks"] for f in details["files"])
    assert _vector_count(app_settings, owner.tenant_id) == details["chunks"]

    audit = (await live_client.get(f"{base}/audit?assetId={corrupt}", headers=owner.headers)).json()
    events = [e["event"] for e in audit["data"]]
    assert events == ["sync_failed", "sync_started", "file_uploaded"]
    assert "corrupt DOCX" in audit["data"][0]["details"]["error_message"]
    scan_events = (await live_client.get(f"{base}/audit?assetId={scanned}", headers=owner.headers)).json()["data"]
    assert "no extractable text" in scan_events[0]["details"]["error_message"]

    hits = await _query(live_client, owner, "when is the impeller replaced?")
    assert hits[0]["fileId"] == good_pdf and hits[0]["page"] == 1 and "impeller" in hits[0]["text"]
    assert hits[0]["fileName"] == "manual.pdf" and hits[0]["accountId"] == account
    assert 0 < hits[0]["score"] <= 1
    mooring = await _query(live_client, owner, "where do visiting yachts moor", limit=1)
    assert len(mooring) == 1 and mooring[0]["fileId"] == good_md and mooring[0]["page"] is None
    only_docx = await _query(live_client, owner, "impeller", fileIds=[good_docx])
    assert all(h["fileId"] == good_docx for h in only_docx)


async def test_unchanged_files_are_skipped_and_exclude_include_delete_act_at_once(
    live_client: httpx.AsyncClient, sync_engine: sa.Engine, app_settings: Settings
) -> None:
    owner = await register_tenant(live_client, "store-actions")
    account = await create_account(live_client, owner)
    upload_response = await upload(live_client, owner, account, "harbour.md", HARBOUR.encode(), sync=True)
    file_id = upload_response.json()["data"]["id"]
    first_op = upload_response.json()["data"]["operationId"]
    assert first_op
    assert _run(sync_engine, app_settings, first_op).synced == 1
    chunks = _vector_count(app_settings, owner.tenant_id)
    assert chunks >= 1

    again = _run(sync_engine, app_settings, await _sync(live_client, owner, [file_id]))
    assert (again.synced, again.skipped) == (0, 1)
    assert _vector_count(app_settings, owner.tenant_id) == chunks

    base = f"/api/v1/tenants/{owner.tenant_id}/store"
    stranger = str(uuid.uuid4())
    excluded = await live_client.post(f"{base}/files/actions", headers=owner.headers,
                                      json={"action": "exclude", "fileIds": [file_id, stranger]})
    assert excluded.status_code == 200
    assert excluded.json()["data"]["results"] == [
        {"fileId": file_id, "ok": True, "error": None}, {"fileId": stranger, "ok": False, "error": "not found"}]
    assert await _query(live_client, owner, "lock gates high tide") == []
    details = (await live_client.get(base, headers=owner.headers)).json()["data"]
    assert details["counts"]["excluded"] == 1 and details["counts"]["active"] == 0

    await live_client.post(f"{base}/files/actions", headers=owner.headers, json={"action": "include", "fileIds": [file_id]})
    assert (await _query(live_client, owner, "lock gates high tide"))[0]["fileId"] == file_id

    resync = await live_client.post(f"{base}/files/actions", headers=owner.headers,
                                    json={"action": "resync", "fileIds": [file_id]})
    resync_op = resync.json()["data"]["operationId"]
    assert _run(sync_engine, app_settings, resync_op).synced == 1  # resync re-embeds even unchanged bytes
    assert _vector_count(app_settings, owner.tenant_id) == chunks

    removed = await live_client.post(f"{base}/files/actions", headers=owner.headers,
                                     json={"action": "delete", "fileIds": [file_id]})
    assert removed.json()["data"]["results"][0]["ok"] is True
    assert await _query(live_client, owner, "lock gates high tide") == []
    assert _vector_count(app_settings, owner.tenant_id) == 0
    events = [e["event"] for e in (await live_client.get(f"{base}/audit", headers=owner.headers)).json()["data"]]
    assert events[:3] == ["file_deleted", "sync_completed", "sync_started"]
    assert {"file_excluded", "file_included", "file_uploaded"} <= set(events)

    bad = await live_client.post(f"{base}/files/actions", headers=owner.headers,
                                 json={"action": "shred", "fileIds": [file_id]})
    assert bad.status_code == 400


async def test_a_killed_run_leaves_files_as_they_were_and_the_next_run_resumes(
    live_client: httpx.AsyncClient, sync_engine: sa.Engine, app_settings: Settings
) -> None:
    owner = await register_tenant(live_client, "store-kill")
    account = await create_account(live_client, owner)
    first = (await upload(live_client, owner, account, "a.md", HARBOUR.encode())).json()["data"]["id"]
    second = (await upload(live_client, owner, account, "b.pdf", make_pdf(MANUAL))).json()["data"]["id"]
    op = await _sync(live_client, owner, [first, second])
    seen: list[str] = []

    def die_on_second(stored) -> None:
        seen.append(str(stored.id))
        if len(seen) == 2:
            raise KeyboardInterrupt  # the process is killed while the second file is taken up

    with pytest.raises(KeyboardInterrupt):
        _run(sync_engine, app_settings, op, on_file=die_on_second)
    base = f"/api/v1/tenants/{owner.tenant_id}/store"
    progress = (await live_client.get(f"{base}/progress", headers=owner.headers)).json()["data"]
    assert progress["status"] == "failed"
    details = (await live_client.get(base, headers=owner.headers)).json()["data"]
    states = {f["id"]: f["status"] for f in details["files"]}
    assert states == {first: "active", second: "pending"}
    assert _vector_count(app_settings, owner.tenant_id) == details["chunks"]

    retry = _run(sync_engine, app_settings, await _sync(live_client, owner, [first, second]))
    assert (retry.synced, retry.skipped) == (1, 1)
    details = (await live_client.get(base, headers=owner.headers)).json()["data"]
    assert details["counts"]["active"] == 2
    assert _vector_count(app_settings, owner.tenant_id) == details["chunks"]


async def test_store_routes_never_cross_tenants(
    live_client: httpx.AsyncClient, sync_engine: sa.Engine, app_settings: Settings
) -> None:
    owner = await register_tenant(live_client, "store-owner")
    stranger = await register_tenant(live_client, "store-stranger")
    account = await create_account(live_client, owner)
    file_id = (await upload(live_client, owner, account, "harbour.md", HARBOUR.encode(), sync=True)).json()["data"]
    _run(sync_engine, app_settings, file_id["operationId"])
    # the stranger holds the same words in their own store
    other_account = await create_account(live_client, stranger)
    theirs = (await upload(live_client, stranger, other_account, "h.md", HARBOUR.encode(), sync=True)).json()["data"]
    _run(sync_engine, app_settings, theirs["operationId"])

    base = f"/api/v1/tenants/{owner.tenant_id}/store"
    for method, path, body in [
        ("GET", "", None), ("GET", "/progress", None), ("GET", "/audit", None),
        ("POST", "/sync", {"assetIds": [file_id["id"]]}), ("POST", "/refresh", {}),
        ("POST", "/files/actions", {"action": "exclude", "fileIds": [file_id["id"]]}),
        ("POST", "/query", {"query": "harbour"}),
    ]:
        response = await live_client.request(method, base + path, headers=stranger.headers, json=body)
        assert response.status_code == 403, (path, response.text)

    own = f"/api/v1/tenants/{stranger.tenant_id}/store"
    cross_sync = await live_client.post(f"{own}/sync", headers=stranger.headers,
                                        json={"assetIds": [file_id["id"], theirs["id"]]})
    assert cross_sync.status_code == 404
    assert file_id["id"] in cross_sync.json()["error"]["message"]
    assert (await live_client.get(f"{own}/progress", headers=stranger.headers)).json()["data"]["operationId"] == \
        theirs["operationId"]  # the refused sync queued nothing
    action = await live_client.post(f"{own}/files/actions", headers=stranger.headers,
                                    json={"action": "exclude", "fileIds": [file_id["id"]]})
    assert action.json()["data"]["results"][0] == {"fileId": file_id["id"], "ok": False, "error": "not found"}
    audit = (await live_client.get(f"{own}/audit?assetId={file_id['id']}", headers=stranger.headers)).json()
    assert audit["data"] == [] and audit["pagination"]["total"] == 0
    hits = await _query(live_client, stranger, "lock gates", fileIds=[file_id["id"]])
    assert hits == []
    hits = await _query(live_client, stranger, "lock gates high tide")
    assert hits and all(h["fileId"] == theirs["id"] for h in hits)
    mine = await _query(live_client, owner, "lock gates high tide")
    assert mine and all(h["fileId"] == file_id["id"] for h in mine)


async def test_query_input_is_checked(live_client: httpx.AsyncClient) -> None:
    owner = await register_tenant(live_client, "store-query")
    base = f"/api/v1/tenants/{owner.tenant_id}/store/query"
    for body in [{"query": "  "}, {"query": "x", "limit": 0}, {"query": "x", "limit": 51},
                 {"query": "x" * 1001}, {"query": "x", "other": 1}, {"limit": 3}]:
        response = await live_client.post(base, headers=owner.headers, json=body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["success"] is False
    empty = await live_client.post(base, headers=owner.headers, json={"query": "anything"})
    assert empty.status_code == 200 and empty.json()["data"]["results"] == []
