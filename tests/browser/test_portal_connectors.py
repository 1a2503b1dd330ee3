"""Connectors in the browser: create one on the suite's real PostgreSQL source (allow-listed by the
operator setting `KARIZ_CONNECTOR_ALLOWED_NETWORKS`, as the test settings do), pull now and watch
the run's live status to its counts; a connector whose password is wrong shows its pull's error and
the connector's last error, without the password."""

from __future__ import annotations

import threading
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot, sign_in
from tests.integration.pulls.conftest import (  # noqa: F401 (fixtures)
    PASSWORD,
    DagsterRunner,
    ServedRun,
    dagster_runner,
    pg_source_url,
    products_table,
    reader_dsn,
)
from tests.integration.pulls.flows import serve_when_queued

DSN_LABEL = "Connection URL (postgresql://user:password@host:5432/db)"
QUERY_LABEL = "Query (read-only SQL, a MongoDB filter, or Cypher)"


@pytest.fixture(autouse=True)
def _runs_use_the_test_settings(app_settings, monkeypatch):
    import orchestration.resources

    monkeypatch.setattr(orchestration.resources, "get_settings", lambda: app_settings)


def create_connector(page, name: str, vertical: str, dsn: str, query: str, name_column: str | None = None) -> None:
    page.get_by_role("link", name="Connectors", exact=True).click()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Kind").select_option("postgresql")
    page.get_by_label("Collection to fill").fill(vertical)
    page.get_by_label(DSN_LABEL).fill(dsn)
    page.get_by_label(QUERY_LABEL).fill(query)
    if name_column:
        page.get_by_label("Name column (optional)").fill(name_column)
    page.get_by_role("button", name="Create connector").click()
    expect(page.get_by_text(f"Created {name}.", exact=False)).to_be_visible()
    expect(page.get_by_label(DSN_LABEL)).to_have_value("")  # the credentials are not kept in the form


class Daemon:
    """Plays the Dagster daemon in a thread: the real sensor tick, then the run it asks for."""

    def __init__(self, runner: DagsterRunner, connector_id: str) -> None:
        self.stop, self.served = threading.Event(), []
        self.thread = threading.Thread(target=serve_when_queued, args=(runner, connector_id, self.stop, self.served),
                                       name="pull-daemon", daemon=True)

    def __enter__(self) -> list[ServedRun]:
        self.thread.start()
        return self.served

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(timeout=120)


def open_connector(page, name: str) -> str:
    page.get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    return page.url.rsplit("/", 1)[1]


def test_pull_now_shows_the_live_run_status_and_its_counts(page, tenant, dagster_runner, pg_source_url,  # noqa: F811
                                                             reader_dsn):  # noqa: F811
    table = products_table(pg_source_url, rows=25)
    vertical = f"parts-{uuid.uuid4().hex[:6]}"
    sign_in(page, tenant.key)
    create_connector(page, "Production Postgres", vertical, reader_dsn,
                     f"SELECT id, title, sku, price FROM {table} WHERE updated_at > :last_pull", "title")
    row = page.get_by_role("row").filter(has_text="Production Postgres")
    expect(row).to_contain_text("never pulled")
    connector_id = open_connector(page, "Production Postgres")
    expect(page.locator("dl.facts")).to_contain_text("stored encrypted, never shown")
    assert PASSWORD not in page.content()

    page.get_by_role("button", name="Pull now").click()
    expect(page.get_by_text("Status: queued")).to_be_visible()  # nothing serves it yet
    expect(page.get_by_role("button", name="Pull now")).to_be_disabled()
    with Daemon(dagster_runner, connector_id) as served:
        expect(page.get_by_text("Pull completed.")).to_be_visible(timeout=90_000)
    assert served and served[0].run.success
    expect(page.get_by_text("Status: completed · 25 rows pulled")).to_be_visible()
    expect(page.get_by_text("25 ingested, 0 duplicates skipped")).to_be_visible()
    expect(page.get_by_role("button", name="Pull now")).to_be_enabled()
    screenshot(page, "connector-pulled")

    page.reload()  # the connector's own record: the last pull and no error
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("Last pullsucceeded ·")
    expect(facts.locator("dd").last).to_have_text("none")
    page.get_by_role("link", name=vertical).click()  # the records landed in the collection
    expect(page.get_by_text("25 records", exact=False)).to_be_visible()
    page.get_by_role("link", name="Connectors", exact=True).click()
    expect(page.get_by_role("row").filter(has_text="Production Postgres")).to_contain_text("succeeded")
    screenshot(page, "connectors")


def test_a_failed_pull_shows_its_error_and_the_last_error(page, tenant, dagster_runner, reader_dsn):  # noqa: F811
    wrong = "not-the-pw-" + uuid.uuid4().hex[:6]
    dsn = reader_dsn.replace(PASSWORD, wrong)
    sign_in(page, tenant.key)
    create_connector(page, "Wrong password", f"v-{uuid.uuid4().hex[:6]}", dsn, "SELECT 'a' AS name")
    connector_id = open_connector(page, "Wrong password")
    page.get_by_role("button", name="Pull now").click()
    expect(page.get_by_text("Status: queued")).to_be_visible()
    with Daemon(dagster_runner, connector_id) as served:
        expect(page.get_by_text("Pull failed.")).to_be_visible(timeout=90_000)
    assert served and not served[0].run.success
    expect(page.get_by_text("Status: failed")).to_be_visible()
    expect(page.get_by_role("alert").filter(has_text="SOURCE_AUTH_FAILED")).to_be_visible()
    assert wrong not in page.content()
    screenshot(page, "connector-failed")

    page.reload()
    expect(page.locator("dl.facts dd").last).to_contain_text("SOURCE_AUTH_FAILED")
    page.get_by_role("link", name="← Connectors").click()
    listed = page.get_by_role("row").filter(has_text="Wrong password")
    expect(listed).to_contain_text("failed")
    expect(listed).to_contain_text("SOURCE_AUTH_FAILED")
    assert wrong not in page.content()
