"""First look: the portal loads, signs in with a key, and shows the collections page."""

from __future__ import annotations

from tests.browser.conftest import screenshot, sign_in


def test_sign_in_shows_collections(page, tenant):
    page.goto("/portal/")
    page.get_by_label("API key").wait_for()
    screenshot(page, "sign-in")
    sign_in(page, tenant.key)
    screenshot(page, "collections-empty")
    assert page.get_by_text("No collections yet").is_visible()
