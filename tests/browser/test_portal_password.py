"""Signing in the second way: the tenant id and its asset-manager password, set from the portal."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import screenshot, sign_in

PASSWORD = "Harbour-Lock-Gates-7-Tide!"


def test_set_the_asset_manager_password_then_sign_in_with_it(page, tenant):
    sign_in(page, tenant.key)
    page.get_by_role("link", name="Accounts").click()
    page.get_by_label("New password", exact=True).fill("short")
    page.get_by_label("Confirm the new password").fill("short")
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("alert")).to_contain_text("(422)")  # the rules, in words
    page.get_by_label("New password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm the new password").fill(PASSWORD)
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_text("The asset-manager password is set.")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()

    page.get_by_label("tenant id and password").check()
    page.get_by_label("Tenant id", exact=True).fill(tenant.tenant_id)
    page.get_by_label("Asset-manager password").fill("wrong-password-entirely")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("(401)")
    page.get_by_label("Asset-manager password").fill(PASSWORD)
    screenshot(page, "sign-in-password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Collections").wait_for()
    nav = page.get_by_role("navigation", name="Portal")
    expect(nav.get_by_role("link", name="Documents")).to_be_visible()
    expect(nav.get_by_role("link", name="API keys")).to_have_count(0)  # an asset manager manages no keys
    assert page.evaluate("JSON.stringify(localStorage)") == "{}"
