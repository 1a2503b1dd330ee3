"""The estimator page: photos in, each image's items as it is analysed, then totals and packing."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import screenshot, sign_in
from tests.estimator_photos import photo_bytes


def test_photos_become_items_totals_and_a_packing_plan(page, tenant, tmp_path):
    cup = tmp_path / "kitchen.png"
    cup.write_bytes(photo_bytes("coffee.png"))
    bike = tmp_path / "garage.jpg"
    bike.write_bytes(photo_bytes("motorcycle_left.png", "JPEG"))
    sign_in(page, tenant.key)
    page.get_by_role("link", name="Estimator").click()
    page.get_by_label("Photos of the rooms (JPEG, PNG or WebP, up to 10)").set_input_files([str(cup), str(bike)])
    page.get_by_role("button", name="Estimate").click()
    images = page.get_by_role("list", name="Images analysed")
    expect(images.get_by_role("listitem")).to_have_count(2, timeout=60_000)
    expect(images).to_contain_text("cup")
    expect(images).to_contain_text("motorcycle")
    expect(page.get_by_text("Estimate ready.")).to_be_visible(timeout=60_000)
    items = page.get_by_role("table").filter(has_text="Packing")
    expect(items.locator("tbody tr")).to_have_count(2)
    totals = page.get_by_role("region", name="Totals and packing plan")
    expect(totals).to_contain_text("Vehicle")
    expect(page.get_by_role("heading", name="Earlier estimates")).to_be_visible()
    screenshot(page, "estimator")


def test_a_file_that_is_no_photo_is_refused_in_words(page, tenant, tmp_path):
    fake = tmp_path / "notes.png"
    fake.write_bytes(b"this is not an image at all")
    sign_in(page, tenant.key)
    page.goto("/portal/estimator")
    page.get_by_label("Photos of the rooms (JPEG, PNG or WebP, up to 10)").set_input_files(str(fake))
    page.get_by_role("button", name="Estimate").click()
    expect(page.get_by_role("alert")).to_contain_text("(415)")
