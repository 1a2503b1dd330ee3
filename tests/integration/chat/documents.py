"""Putting documents into a tenant's RAG store for the chat tests: the real path (an account, an
upload queued into the store, the store operation run with the real embedder and vector index)."""

from __future__ import annotations

import functools
import re
import uuid
from typing import NamedTuple

import httpx
import sqlalchemy as sa

from core.settings import get_settings
from core.streams.sse import parse_sse
from tests.integration.conftest import TenantKey, register_tenant

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


class Asked(NamedTuple):
    tenant: TenantKey
    events: list  # parse_sse's (id, event, data)
    sent: set[int]  # the numbers of the sources the stream sent
    answer: str


async def ask_about_the_handbook(client: httpx.AsyncClient, prefix: str) -> Asked:
    """A new tenant with `HANDBOOK` in its store asks `POST /chat` when the warehouse opens. Checks
    the stream (start and sources first, text, done last) and that the answer is not empty and its
    `[n]` marks name only sources it was sent."""
    tenant = await register_tenant(client, prefix)
    await add_document(client, tenant, "handbook.txt", HANDBOOK)
    response = await client.post("/api/v1/chat", headers=tenant.headers,
                                 json={"tenantId": tenant.tenant_id, "message": "When does the warehouse open?"})
    assert response.status_code == 200, response.text
    events = parse_sse(response.text)
    names = [n for _, n, _ in events]
    assert names[:2] == ["start", "sources"] and names[-1] == "done" and "delta" in names
    sent = {s["n"] for s in events[1][2]["items"]}
    answer = "".join(d["text"] for _, n, d in events if n == "delta")
    assert answer.strip()
    assert {int(m) for m in re.findall(r"\[(\d+)\]", answer)} <= sent
    return Asked(tenant, events, sent, answer)
