"""The interactive API docs load with no network: the page names no external URL, and every script,
style sheet and icon it names is served by Kariz (from the installed swagger-ui-py package)."""

from __future__ import annotations

import re

import httpx

V1 = "/api/v1"


async def test_docs_page_and_its_assets_load_without_any_external_url(client: httpx.AsyncClient) -> None:
    for page in (f"{V1}/docs", f"{V1}/docs/swagger"):
        response = await client.get(page)
        assert response.status_code == 200 and "text/html" in response.headers["content-type"]
        html = response.text
        urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
        assert urls, "the page names its scripts and styles"
        external = [u for u in urls if re.match(r"^(https?:)?//", u)]
        assert external == [], f"the docs page loads {external} from outside"
        for url in urls:
            asset = await client.get(url)  # no credentials: the docs are public
            assert asset.status_code == 200, url
            assert len(asset.content) > 500, url
        assert "SwaggerUIBundle(" in html and "openapi" in html


async def test_docs_assets_have_their_content_types(client: httpx.AsyncClient) -> None:
    js = await client.get(f"{V1}/docs/assets/swagger-ui-bundle.js")
    css = await client.get(f"{V1}/docs/assets/swagger-ui.css")
    assert "javascript" in js.headers["content-type"] and "text/css" in css.headers["content-type"]
    assert (await client.get(f"{V1}/docs/assets/no-such-file.js")).status_code == 404
