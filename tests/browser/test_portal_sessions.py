"""What a session sees and how it ends: a read-only key sees no button it cannot use, the page goes
back to sign-in when the token expires, everything works from the keyboard, usage warns at 80%, and
the API's refusals are shown in words."""

from __future__ import annotations

import uuid

import httpx
import sqlalchemy as sa
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from api.usage.hooks import forget_limits
from tests.browser.conftest import screenshot, sign_in


def _key(base_url: str, tenant, scopes: list[str]) -> str:
    answer = httpx.post(f"{base_url}/api/v1/tenants/{tenant.tenant_id}/api-keys", headers=tenant.headers,
                        json={"name": "limited", "scopes": scopes})
    assert answer.status_code == 201, answer.text
    return answer.json()["data"]["apiKey"]


def test_a_read_only_session_sees_no_button_it_cannot_use(page, tenant, base_url):
    ingest = httpx.post(f"{base_url}/api/v1/ingest/tools?entity_type=tool", headers=tenant.headers,
                        json=[{"name": "Torque wrench", "size": 10}])
    assert ingest.status_code == 200
    sign_in(page, _key(base_url, tenant, ["tenant:read"]))
    nav = page.get_by_role("navigation", name="Portal")
    for hidden in ("Upload", "Exports", "API keys", "Accounts"):
        expect(nav.get_by_role("link", name=hidden)).to_have_count(0)
    expect(nav.get_by_role("link", name="Collections")).to_be_visible()
    expect(page.get_by_role("link", name="Upload a file")).to_have_count(0)
    page.get_by_role("link", name="tools").click()
    expect(page.get_by_role("heading", name="tools")).to_be_visible()
    expect(page.get_by_role("link", name="Replace the whole collection")).to_have_count(0)
    expect(page.get_by_role("link", name="Export")).to_have_count(0)
    page.get_by_role("link", name="Connectors").click()
    expect(page.get_by_role("button", name="Create connector")).to_have_count(0)
    screenshot(page, "read-only-connectors")
    # typing an admin page's address shows the 404 page, not a form the API would refuse
    page.goto("/portal/keys")
    expect(page.get_by_role("heading", name="404 · Not found")).to_be_visible()


def test_the_page_returns_to_sign_in_when_the_session_expires(page, tenant):
    page.clock.install()
    sign_in(page, tenant.key)
    page.clock.fast_forward("02:00:00")  # past the token's hour
    expect(page.get_by_text("Your session expired: sign in again.")).to_be_visible()
    expect(page.get_by_label("API key")).to_be_visible()


def test_sign_in_and_search_with_the_keyboard_only(page, tenant, base_url):
    ingest = httpx.post(f"{base_url}/api/v1/ingest/kb?entity_type=tool", headers=tenant.headers,
                        json=[{"name": "Keyboard hammer"}])
    assert ingest.status_code == 200
    page.goto("/portal/")
    page.get_by_label("API key").wait_for()
    page.keyboard.type(tenant.key)  # the key field has the focus
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Collections").wait_for()
    for _ in range(40):  # Tab to the collection's link and follow it
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "kb":
            break
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="kb")).to_be_visible()
    page.keyboard.type("hammer")  # the query box has the focus
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="Keyboard hammer")).to_be_visible()
    # every control on the page has a name a screen reader can say
    unnamed = page.evaluate("""[...document.querySelectorAll('input, select, textarea, button')]
        .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.textContent.trim())
        .map(el => el.outerHTML)""")
    assert unnamed == []


def test_usage_bars_warn_at_80_percent(page, tenant, sync_engine, base_url):
    for _ in range(9):
        assert httpx.get(f"{base_url}/api/v1/collections", headers=tenant.headers).status_code == 200
    used = httpx.get(f"{base_url}/api/v1/usage", headers=tenant.headers).json()["data"]["daily"]["used"]
    # signing in and opening the page make two or three more calls: over 80% of the day, under 100%
    with Session(sync_engine) as db:
        db.execute(sa.text("UPDATE tenants SET daily_limit = :n WHERE id = :t"), {"n": used + 4, "t": tenant.tenant_id})
        db.commit()
    forget_limits(uuid.UUID(tenant.tenant_id))
    sign_in(page, tenant.key)
    page.get_by_role("link", name="Usage").click()
    page.get_by_role("heading", name="Usage").wait_for()
    warning = page.get_by_role("alert").filter(has_text="Requests today is at")
    expect(warning).to_be_visible()
    expect(page.get_by_role("alert").filter(has_text="Requests this period")).to_have_count(0)
    screenshot(page, "usage")


def test_connector_refusals_are_shown_in_words(page, tenant):
    sign_in(page, tenant.key)
    page.get_by_role("link", name="Connectors").click()
    page.get_by_label("Name", exact=True).fill("warehouse")
    page.get_by_label("Kind").select_option("postgresql")
    page.get_by_label("Collection to fill").fill("stock")
    page.get_by_label("Connection URL (postgresql://user:password@host:5432/db)").fill(
        "postgresql://reader:s3cret@127.0.0.1:5432/stock")
    assert page.get_by_label("Connection URL (postgresql://user:password@host:5432/db)").get_attribute("type") == "password"
    page.get_by_label("Query (read-only SQL, a MongoDB filter, or Cypher)").fill("DELETE FROM items")
    page.get_by_role("button", name="Create connector").click()
    error = page.get_by_role("alert")
    expect(error).to_contain_text("(422)")
    assert "s3cret" not in page.content().replace(
        page.get_by_label("Connection URL (postgresql://user:password@host:5432/db)").input_value(), "")
    screenshot(page, "connector-refused")
