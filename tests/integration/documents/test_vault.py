"""The asset vault through the API: uploads checked by content, size and quota, dedup, list, delete."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import sqlalchemy as sa

from core.settings import Settings
from tests.integration.conftest import TenantKey
from tests.integration.documents.conftest import create_account, upload
from tests.integration.documents.samples import make_corrupt_docx, make_docx, make_pdf

TEXT = b"The harbour opens at dawn. Ships wait for the tide.\n"


def _stored_blobs(settings: Settings, tenant_id: str) -> list[Path]:
    root = settings.data_dir / "files" / uuid.UUID(tenant_id).hex
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


async def test_upload_answers_the_file_and_the_same_bytes_again_answer_it_once(
    client: httpx.AsyncClient, tenant_key: TenantKey, app_settings: Settings
) -> None:
    account = await create_account(client, tenant_key)
    first = await upload(client, tenant_key, account, "notes.txt", TEXT)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["success"] is True
    data = body["data"]
    assert data["accountId"] == account
    assert data["name"] == "notes.txt"
    assert data["contentType"] == "text/plain"
    assert data["sizeBytes"] == len(TEXT)
    assert len(data["sha256"]) == 64
    assert data["status"] == "uploaded" and data["inStore"] is False
    assert data["createdAt"]

    again = await upload(client, tenant_key, account, "renamed.txt", TEXT)
    assert again.status_code == 200
    assert again.json()["data"]["id"] == data["id"]
    assert again.json()["data"]["created"] is False
    assert len(_stored_blobs(app_settings, tenant_key.tenant_id)) == 1

    listed = await client.get(f"/api/v1/tenants/{tenant_key.tenant_id}/accounts/{account}/files",
                              headers=tenant_key.headers)
    assert listed.status_code == 200
    assert [f["id"] for f in listed.json()["data"]] == [data["id"]]
    assert listed.json()["pagination"] == {"limit": 50, "offset": 0, "total": 1}


async def test_each_supported_kind_is_recognised_by_its_content(client: httpx.AsyncClient, tenant_key: TenantKey) -> None:
    account = await create_account(client, tenant_key)
    cases = [
        ("guide.md", b"# Guide\n\nSome *markdown* text.\n", "text/markdown"),
        ("report.pdf", make_pdf(["page one text"]), "application/pdf"),
        ("letter.docx", make_docx(["Dear reader"]),
         "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("no-extension", make_pdf(["a pdf without a name"]), "application/pdf"),
        ("latin1.txt", "café crème brûlée\n".encode("latin-1"), "text/plain"),
    ]
    for name, data, content_type in cases:
        response = await upload(client, tenant_key, account, name, data)
        assert response.status_code == 201, (name, response.text)
        assert response.json()["data"]["contentType"] == content_type, name

    listed = await client.get(f"/api/v1/tenants/{tenant_key.tenant_id}/accounts/{account}/files?limit=2&offset=1",
                              headers=tenant_key.headers)
    names = [f["name"] for f in listed.json()["data"]]
    assert names == ["no-extension", "letter.docx"]  # newest first, paged
    assert listed.json()["pagination"]["total"] == 5


async def test_bad_files_get_a_clear_4xx_and_nothing_is_stored(
    client: httpx.AsyncClient, tenant_key: TenantKey, app_settings: Settings
) -> None:
    account = await create_account(client, tenant_key)
    kept = (await upload(client, tenant_key, account, "kept.txt", TEXT)).json()["data"]["id"]
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    cases = [
        ("empty.txt", b"", 422, "empty"),
        # another media type: 415
        ("photo.png", png, 415, "PNG"),
        ("archive.docx", _zip_without_word(), 415, "not a Word document"),
        ("binary.txt", b"\x00\x01\x02\x03binary", 415, "binary"),
        # a supported type whose bytes are misnamed or cannot be read: 422
        ("fake.pdf", b"this is text, not a pdf", 422, "named .pdf"),
        ("damaged.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pag", 422, "unreadable PDF"),
        ("broken.docx", make_corrupt_docx(), 422, "corrupt DOCX"),
    ]
    for name, data, status, reason in cases:
        response = await upload(client, tenant_key, account, name, data)
        assert response.status_code == status, (name, response.text)
        body = response.json()
        assert body["success"] is False and reason in body["error"]["message"], (name, body)
        assert status != 415 or body["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE", (name, body)
    missing = await client.post(f"/api/v1/tenants/{tenant_key.tenant_id}/accounts/{account}/files",
                                headers=tenant_key.headers, files={"other": ("a.txt", TEXT)})
    assert missing.status_code == 422
    # nothing of the refused files was stored; the earlier file is intact
    assert len(_stored_blobs(app_settings, tenant_key.tenant_id)) == 1
    listed = await client.get(f"/api/v1/tenants/{tenant_key.tenant_id}/accounts/{account}/files",
                              headers=tenant_key.headers)
    assert [f["id"] for f in listed.json()["data"]] == [kept]


def _zip_without_word() -> bytes:
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "hello")
    return out.getvalue()


async def test_over_50_mb_is_413(client: httpx.AsyncClient, tenant_key: TenantKey, app_settings: Settings) -> None:
    account = await create_account(client, tenant_key)
    big = b"a" * (app_settings.max_upload_bytes + 1)
    response = await upload(client, tenant_key, account, "big.txt", big)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert _stored_blobs(app_settings, tenant_key.tenant_id) == []


async def test_quota_is_402_before_anything_is_written(
    client: httpx.AsyncClient, tenant_key: TenantKey, app_settings: Settings
) -> None:
    account = await create_account(client, tenant_key)
    async with client.app.state.session_factory() as session:
        await session.execute(sa.text("UPDATE tenants SET storage_limit_bytes = :n WHERE id = :t"),
                              {"n": len(TEXT) + 10, "t": tenant_key.tenant_id})
        await session.commit()
    assert (await upload(client, tenant_key, account, "a.txt", TEXT)).status_code == 201
    refused = await upload(client, tenant_key, account, "b.txt", TEXT + b"more words here\n")
    assert refused.status_code == 402
    assert refused.json()["error"]["code"] == "QUOTA_EXCEEDED"
    assert len(_stored_blobs(app_settings, tenant_key.tenant_id)) == 1
    listed = await client.get(f"/api/v1/tenants/{tenant_key.tenant_id}/accounts/{account}/files",
                              headers=tenant_key.headers)
    assert listed.json()["pagination"]["total"] == 1


async def test_file_names_are_metadata_only(client: httpx.AsyncClient, tenant_key: TenantKey,
                                            app_settings: Settings) -> None:
    account = await create_account(client, tenant_key)
    response = await upload(client, tenant_key, account, "../../../etc/passwd.txt", TEXT)
    assert response.status_code == 201
    assert response.json()["data"]["name"] == "passwd.txt"
    blobs = _stored_blobs(app_settings, tenant_key.tenant_id)
    assert len(blobs) == 1 and "passwd" not in str(blobs[0])
    assert blobs[0].is_relative_to(app_settings.data_dir / "files")


async def test_delete_removes_the_bytes_and_writes_an_audit_event(
    client: httpx.AsyncClient, tenant_key: TenantKey, app_settings: Settings
) -> None:
    account = await create_account(client, tenant_key)
    file_id = (await upload(client, tenant_key, account, "notes.txt", TEXT)).json()["data"]["id"]
    base = f"/api/v1/tenants/{tenant_key.tenant_id}"
    deleted = await client.delete(f"{base}/accounts/{account}/files/{file_id}", headers=tenant_key.headers)
    assert deleted.status_code == 204
    assert _stored_blobs(app_settings, tenant_key.tenant_id) == []
    listed = await client.get(f"{base}/accounts/{account}/files", headers=tenant_key.headers)
    assert listed.json()["data"] == []
    again = await client.delete(f"{base}/accounts/{account}/files/{file_id}", headers=tenant_key.headers)
    assert again.status_code == 404
    events = (await client.get(f"{base}/store/audit?assetId={file_id}", headers=tenant_key.headers)).json()["data"]
    assert [e["event"] for e in events] == ["file_deleted", "file_uploaded"]


async def test_another_tenant_can_neither_reach_nor_see_files(
    client: httpx.AsyncClient, tenant_key: TenantKey, other_tenant_key: TenantKey
) -> None:
    account = await create_account(client, tenant_key)
    file_id = (await upload(client, tenant_key, account, "notes.txt", TEXT)).json()["data"]["id"]
    own = f"/api/v1/tenants/{tenant_key.tenant_id}/accounts/{account}/files"
    # the stranger on the owner's tenant path: 403
    cross = await client.post(own, headers=other_tenant_key.headers, files={"file": ("x.txt", TEXT)})
    assert cross.status_code == 403
    assert cross.json()["error"]["code"] == "FORBIDDEN"
    assert (await client.get(own, headers=other_tenant_key.headers)).status_code == 403
    assert (await client.delete(f"{own}/{file_id}", headers=other_tenant_key.headers)).status_code == 403
    # the stranger's own tenant path with the owner's account or file: 404
    stranger_account = await create_account(client, other_tenant_key)
    theirs = f"/api/v1/tenants/{other_tenant_key.tenant_id}/accounts"
    assert (await client.get(f"{theirs}/{account}/files", headers=other_tenant_key.headers)).status_code == 404
    assert (await upload(client, other_tenant_key, account, "x.txt", TEXT)).status_code == 404  # not their account
    gone = await client.delete(f"{theirs}/{stranger_account}/files/{file_id}", headers=other_tenant_key.headers)
    assert gone.status_code == 404
    # and the owner's file is intact
    assert (await client.get(own, headers=tenant_key.headers)).json()["pagination"]["total"] == 1
