"""Account e-mails are validated, `kariz key create --expires-days 0` is refused, and writes into a
collection's active generation while a replace is pending are refused with 409 (they would vanish at
the swap)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from click.testing import CliRunner

from kariz.cli import main
from tests.integration.conftest import register_tenant

V1 = "/api/v1"


@pytest.mark.parametrize("email", ["", "   ", "<script>alert(1)</script>", "a@b", "x<script>@example.com",
                                   "two@@example.com", "spa ce@example.com"])
async def test_register_refuses_an_invalid_email_with_422(client: httpx.AsyncClient, email: str) -> None:
    response = await client.post(f"{V1}/register", json={"name": f"e-{uuid.uuid4().hex[:8]}", "email": email})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


async def test_accounts_refuse_an_invalid_email_with_422(client: httpx.AsyncClient, tenant_key) -> None:  # noqa: ANN001
    for email in ("", "<script>@x.io"):
        response = await client.post(f"{V1}/tenants/{tenant_key.tenant_id}/accounts",
                                     json={"email": email, "role": "viewer"}, headers=tenant_key.headers)
        assert response.status_code == 422, response.text
    ok = await client.post(f"{V1}/tenants/{tenant_key.tenant_id}/accounts",
                           json={"email": "viewer@example.com", "role": "viewer"}, headers=tenant_key.headers)
    assert ok.status_code == 201, ok.text


def test_key_create_refuses_zero_expiry_days() -> None:
    result = CliRunner().invoke(main, ["key", "create", "--tenant", "demo", "--scope", "tenant:read",
                                       "--expires-days", "0"])
    assert result.exit_code == 2
    assert "--expires-days" in result.output and "Traceback" not in result.output


async def test_writes_into_the_active_generation_during_a_replace_are_409(live_client: httpx.AsyncClient) -> None:
    tenant = await register_tenant(live_client, "bg")
    name = f"v{uuid.uuid4().hex[:8]}"
    first = await live_client.post(f"{V1}/ingest/{name}", params={"entity_type": "part"},
                                   json=[{"name": "Old bolt"}], headers=tenant.headers)
    assert first.status_code == 200, first.text
    staged = await live_client.post(f"{V1}/portal/verticals/{name}/replace", params={"entity_type": "part"},
                                    files={"file": ("new.csv", b"name\nNew bolt\n", "text/csv")},
                                    headers=tenant.headers)
    assert staged.status_code == 200, staged.text
    during = await live_client.post(f"{V1}/ingest/{name}", params={"entity_type": "part"},
                                    json=[{"name": "Written during the replace"}], headers=tenant.headers)
    assert during.status_code == 409, during.text
    assert "replace" in during.json()["detail"]
    upload = await live_client.post(f"{V1}/ingest/{name}/file", params={"entity_type": "part"},
                                    files={"file": ("x.csv", b"name\nAlso during\n", "text/csv")},
                                    headers=tenant.headers)
    assert upload.status_code == 409
    cancelled = await live_client.post(f"{V1}/portal/verticals/{name}/cancel-replace", headers=tenant.headers)
    assert cancelled.status_code == 200, cancelled.text
    after = await live_client.post(f"{V1}/ingest/{name}", params={"entity_type": "part"},
                                   json=[{"name": "Written after the cancel"}], headers=tenant.headers)
    assert after.status_code == 200 and after.json()["summary"]["accepted"] == 1
