"""NUL bytes in a query, a path segment or a filter value are 400, never 500; control characters in
what a caller sends never reach a log line unescaped."""

from __future__ import annotations

import logging

import httpx

from core.log_format import EscapeControlsFilter, configure_logging
from tests.integration.conftest import TenantKey, register_tenant

V1 = "/api/v1"


def assert_400(response: httpx.Response) -> dict:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["success"] is False and body["error"]["code"] == "BAD_REQUEST"
    return body


async def _seed(client: httpx.AsyncClient, tenant: TenantKey) -> None:
    ok = await client.post(f"{V1}/ingest/parts/file", params={"entity_type": "part"},
                           files={"file": ("p.csv", b"name,material\nBolt M8,steel\n", "text/csv")},
                           headers=tenant.headers)
    assert ok.status_code == 200, ok.text


async def test_nul_in_a_query_is_400(live_client: httpx.AsyncClient) -> None:
    client = live_client
    tenant_key = await register_tenant(client, "nul")
    await _seed(client, tenant_key)
    body = assert_400(await client.get(f"{V1}/search/parts?q=bolt%00x", headers=tenant_key.headers))
    assert "NUL" in body["detail"]
    assert_400(await client.post(f"{V1}/search/parts", json={"query": "bolt\u0000x"}, headers=tenant_key.headers))


async def test_nul_in_a_path_segment_is_400(client: httpx.AsyncClient, tenant_key: TenantKey) -> None:
    assert_400(await client.get(f"{V1}/search/pa%00rts?q=bolt", headers=tenant_key.headers))
    assert_400(await client.get(f"{V1}/portal/verticals/a%00b/replace-status", headers=tenant_key.headers))


async def test_nul_in_a_filter_value_is_400(live_client: httpx.AsyncClient) -> None:
    client = live_client
    tenant_key = await register_tenant(client, "nul")
    await _seed(client, tenant_key)
    response = await client.post(f"{V1}/search/parts", json={"filters": {"material": "st\u0000eel"}},
                                 headers=tenant_key.headers)
    assert_400(response)
    # the same search without the NUL still answers
    clean = await client.post(f"{V1}/search/parts", json={"filters": {"material": "steel"}},
                              headers=tenant_key.headers)
    assert clean.status_code == 200, clean.text


def test_log_lines_cannot_be_forged(caplog) -> None:  # noqa: ANN001 - pytest fixture
    """A message carrying CR/LF or an ANSI escape comes out as one line with the characters escaped."""
    handler = logging.StreamHandler()
    handler.addFilter(EscapeControlsFilter())
    record = logging.LogRecord("kariz.api", logging.WARNING, __file__, 1, "unhandled error on GET %s",
                               ("/a\r\n2026-12-02 INFO kariz.api admin logged in\x1b[2J",), None)
    handler.filter(record)
    line = logging.Formatter("%(levelname)s %(message)s").format(record)
    assert "\n" not in line and "\r" not in line and "\x1b" not in line
    assert "\\r\\n2026-12-02 INFO" in line and "\\x1b[2J" in line


def test_the_api_process_logs_through_the_filter() -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        configure_logging()
        assert root.handlers and all(any(isinstance(f, EscapeControlsFilter) for f in h.filters)
                                     for h in root.handlers)
    finally:
        for h in root.handlers:
            h.filters = [f for f in h.filters if not isinstance(f, EscapeControlsFilter)] if h in before else h.filters
