"""Putting documents into a tenant's RAG store for the chat tests."""

from __future__ import annotations

import uuid

import httpx

from tests.integration.conftest import TenantKey

HANDBOOK = ("The warehouse opens at 7 am on weekdays. Forklifts must be inspected before every shift. "
            "Visitors sign in at the front desk and wear a yellow vest.")
RETURNS = ("Customers may return unused items within 30 days. Refunds are paid to the original card "
           "within five business days. Damaged items need a photo of the damage.")


async def add_document(client: httpx.AsyncClient, tenant: TenantKey, name: str, text: str) -> str:
    """Store `text` as a document of `tenant` and return its asset id."""
    from core.documents import retrieval

    file_id = uuid.uuid4()
    retrieval.add(uuid.UUID(tenant.tenant_id), file_id, name, text, page=1)
    return str(file_id)


def add_document_sync(api_url: str, api_key: str, name: str, text: str) -> str:
    """`add_document` for a caller that has only the served API's URL and a key."""
    with httpx.Client(base_url=api_url) as http:
        tenant_id = http.get("/api/v1/tenants", headers={"Authorization": f"Bearer {api_key}"}).json()["data"]["id"]
    from core.documents import retrieval

    file_id = uuid.uuid4()
    retrieval.add(uuid.UUID(tenant_id), file_id, name, text, page=1)
    return str(file_id)
