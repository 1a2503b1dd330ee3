"""The portal in a real browser: Debian's headless Chromium, driven by Playwright, against the app
served by uvicorn on a loopback port, on the session's real PostgreSQL.

Chromium must be installed (`make install` and `.ci/run` install the `chromium` package): without it
these tests fail, they never skip. Playwright's own browser downloads are never used.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from api.app import create_app
from core.settings import Settings
from tests.integration.conftest import _use_test_settings, app_settings  # noqa: F401 (fixtures)

CHROMIUM = os.environ.get("KARIZ_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).parent / "screenshots"


@dataclass(frozen=True)
class Tenant:
    tenant_id: str
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def base_url(app_settings: Settings, database_url: str) -> Iterator[str]:  # noqa: F811
    """The real app (API and portal) served by uvicorn on a loopback port, committing to the test
    database."""
    port = _free_port()
    app = create_app(app_settings, database_url=database_url)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="portal-server", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        raise RuntimeError("the app did not start")
    yield url
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless Debian Chromium; fails (never skips) when it is not installed. Module-scoped: the
    sync Playwright API keeps an event loop running in this thread while it is open, and every
    async test after it in the session would fail ("cannot be called from a running event loop")."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: `apt-get install -y chromium` (make install does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, base_url: str, request: pytest.FixtureRequest):
    """A fresh browser context (no cookies) per test, phone-sized when the test asks for it; any
    script error on the page fails the test."""
    phone = request.node.get_closest_marker("phone") is not None
    context = browser.new_context(base_url=base_url, accept_downloads=True,
                                  viewport={"width": 390, "height": 844} if phone else {"width": 1280, "height": 900})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("dialog", lambda dialog: dialog.accept())
    tab.script_errors = errors
    yield tab
    context.close()
    assert not errors, f"script errors on the page: {errors}"


def screenshot(page, name: str) -> Path:
    """A full-page PNG under tests/browser/screenshots/ (git-ignored) for a reviewer."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def unnamed_controls(page) -> list[str]:
    """The form controls and links on the page that a screen reader could not name (no label, no
    aria-label, no text); hidden ones do not count."""
    return page.evaluate("""[...document.querySelectorAll('input, select, textarea, button, a[href]')]
        .filter(el => el.getClientRects().length && el.type !== 'hidden')
        .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                      && !el.getAttribute('aria-labelledby') && !el.textContent.trim())
        .map(el => el.outerHTML.slice(0, 120))""")


def register(base_url: str, prefix: str = "portal") -> Tenant:
    """A new tenant with its first (admin) key, through the API."""
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    answer = httpx.post(f"{base_url}/api/v1/register", json={"name": name, "email": f"{name}@example.com"})
    assert answer.status_code == 201, answer.text
    data = answer.json()["data"]
    return Tenant(data["tenantId"], data["apiKey"])


@pytest.fixture
def tenant(base_url: str) -> Tenant:
    return register(base_url)


def sign_in(page, key: str) -> None:
    """Sign in through the sign-in page, as a person would."""
    page.goto("/portal/")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Collections").wait_for()
