"""Accounts and the document vault + RAG store in the browser: create an account, change its role,
upload a file into its vault, sync it with the live progress, exclude it, and read the audit log."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from core.documents.sync import run_operation
from core.embeddings.factory import get_embedding_provider
from core.files import get_file_store
from core.vectors.factory import get_vector_index
from tests.browser.conftest import screenshot, sign_in

HARBOUR = "# Harbour rules\n\nThe harbour master opens the lock gates two hours before high tide.\n"


def test_accounts_then_a_document_synced_excluded_and_audited(page, tenant, tmp_path, sync_engine, app_settings):
    sign_in(page, tenant.key)
    page.get_by_role("link", name="Accounts").click()
    email = f"ada-{uuid.uuid4().hex[:6]}@example.com"
    page.get_by_label("Email").fill(email)
    page.get_by_label("Role", exact=True).select_option("viewer")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text(f"Created {email} (viewer).")).to_be_visible()
    page.get_by_label(f"Role of {email}").select_option("member")
    expect(page.get_by_text(f"{email}: role is now member.")).to_be_visible()
    screenshot(page, "accounts")

    page.get_by_role("link", name="Documents").click()
    page.get_by_label("Account").select_option(label=f"{email} (member)")
    doc = tmp_path / "harbour.md"
    doc.write_text(HARBOUR)
    page.get_by_label("File (PDF, TXT, Markdown or DOCX)").set_input_files(str(doc))
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_text("Uploaded: harbour.md.")).to_be_visible()
    expect(page.get_by_text("in progress", exact=False)).to_be_visible()

    # what the Dagster run does: the real sync (extract, chunk, embed, index) of the queued operation
    with Session(sync_engine) as db:
        op_id = db.execute(sa.text("SELECT id FROM store_operations WHERE tenant_id = :t ORDER BY created_at DESC LIMIT 1"),
                           {"t": tenant.tenant_id}).scalar_one()
    run_operation(sync_engine, op_id, provider=get_embedding_provider(app_settings),
                  index=get_vector_index(app_settings), files=get_file_store(app_settings), run_id="browser-test")
    expect(page.get_by_text("completed: 100%")).to_be_visible(timeout=20_000)
    row = page.get_by_role("table").filter(has_text="Files of this account").get_by_role("row").filter(has_text="harbour.md")
    expect(row).to_contain_text("active")
    screenshot(page, "documents-synced")

    page.get_by_role("button", name="Exclude harbour.md").click()
    expect(page.get_by_text("Excluded harbour.md.")).to_be_visible()
    expect(row).to_contain_text("excluded")
    expect(page.get_by_role("button", name="Include harbour.md")).to_be_visible()
    audit = page.get_by_role("table").filter(has_text="Newest first")
    expect(audit).to_contain_text("excluded")
    screenshot(page, "documents-audit")
