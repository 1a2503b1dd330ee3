"""Putting documents into a tenant's RAG store for the chat tests: the real path (an account, an
upload queued into the store, the store operation run with the real embedder and vector index)."""

from __future__ import annotations

import functools
import uuid

import httpx
import sqlalchemy as sa

from core.settings import get_settings
from tests.integration.conftest import TenantKey

HANDBOOK = ("The warehouse opens at 7 am on weekdays. Forklifts must be inspected before every shift. "
            "Visitors sign in at the front desk and wear a yellow vest.")
RETURNS = ("Customers may return unused items within 30 days. Refunds are paid to the original card "
           "within five business days. Damaged items need a photo of the damage.")


@functools.cache
def _engine(url: str) -> sa.Engine:
    from core.db.engine import make_sync_engine

    return make_sync_engine(url, pool_size=2)


def run_store_operation(operation_id: str) -> None:
    """Run a queued store operation to its end, as the Dagster job does."""
    from core.documents.sync import run_operation
    from core.embeddings.factory import get_embedding_provider
    from core.files import get_file_store
    from core.vectors.factory import get_vector_index

    settings = get_settings()
    report = run_operation(_engine(settings.database_url), uuid.UUID(operation_id),
                           provider=get_embedding_provider(settings), index=get_vector_index(settings),
                           files=get_file_store(settings), run_id="chat-test")
    assert report.failed == 0, report


def _account_body() -> dict:
    return {"email": f"{uuid.uuid4().hex[:8]}@example.com", "name": "Ada", "role": "member"}


async def add_document(client: httpx.AsyncClient, tenant: TenantKey, name: str, text: str,
                       account_id: str | None = None) -> str:
    """Upload `text` as `name` into an account of `tenant` (a new one by default), sync it into the
    store, and return its asset id. Needs an app that commits (`live_client`)."""
    base = f"/api/v1/tenants/{tenant.tenant_id}/accounts"
    if account_id is None:
        response = await client.post(base, headers=tenant.headers, json=_account_body())
        assert response.status_code == 201, response.text
        account_id = response.json()["data"]["id"]
    response = await client.post(f"{base}/{account_id}/files?sync=true", headers=tenant.headers,
                                 files={"file": (name, text.encode(), "text/plain")})
    assert response.status_code in (200, 201), response.text
    data = response.json()["data"]
    import asyncio

    await asyncio.to_thread(run_store_operation, data["operationId"])
    return data["id"]


def add_document_sync(api_url: str, api_key: str, name: str, text: str) -> str:
    """`add_document` for a caller that has only the served API's URL and a key."""
    headers = {"Authorization": f"Bearer {api_key}"}
    with httpx.Client(base_url=api_url, headers=headers) as http:
        tenant_id = http.get("/api/v1/tenants").json()["data"]["id"]
        base = f"/api/v1/tenants/{tenant_id}/accounts"
        account_id = http.post(base, json=_account_body()).json()["data"]["id"]
        data = http.post(f"{base}/{account_id}/files?sync=true",
                         files={"file": (name, text.encode(), "text/plain")}).json()["data"]
    run_store_operation(data["operationId"])
    return data["id"]
