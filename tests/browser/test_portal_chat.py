"""The chat page in the browser: a PDF synced into the real RAG store (the store operation run as the
Dagster job runs it, its progress polled to the end), a question in its words answered with a
citation linked to the file and page, the answer kept in the history, continued, and deleted."""

from __future__ import annotations

import re
import time
import uuid

import httpx
import pytest
from playwright.sync_api import expect

from core.documents.sync import run_operation
from core.embeddings.factory import get_embedding_provider
from core.files import get_file_store
from core.vectors.factory import get_vector_index
from tests.browser.conftest import Tenant, register, screenshot, sign_in
from tests.integration.documents.samples import make_pdf

# page 2 holds the answer; every content word of the question is in its sentence, so full text
# (websearch_to_tsquery ANDs the words) ranks that chunk first, and the extractive model picks that
# sentence (it shares all the question's content words; page 1 shares only "harbour")
PAGES = ["Harbour office\nVisitors report to the harbour office on arrival.",
         "Tides\nThe harbour master opens the lock gates two hours before high tide."]
QUESTION = "When does the harbour master open the lock gates?"
FOLLOW_UP = "Where do visitors report on arrival?"


def sync_pdf(base_url: str, tenant: Tenant, sync_engine, app_settings) -> str:
    """Upload the PDF into a new account's vault with `sync=true`, run the queued store operation,
    and poll the store's progress until the file is active in the store; the file's id."""
    http = httpx.Client(base_url=f"{base_url}/api/v1/tenants/{tenant.tenant_id}", headers=tenant.headers)
    account = http.post("/accounts", json={"email": f"dock-{uuid.uuid4().hex[:6]}@example.com", "name": "Dock",
                                           "role": "member"})
    assert account.status_code == 201, account.text
    upload = http.post(f"/accounts/{account.json()['data']['id']}/files", params={"sync": "true"},
                       files={"file": ("harbour.pdf", make_pdf(PAGES), "application/pdf")})
    assert upload.status_code == 201, upload.text
    data = upload.json()["data"]
    report = run_operation(sync_engine, uuid.UUID(data["operationId"]), provider=get_embedding_provider(app_settings),
                           index=get_vector_index(app_settings), files=get_file_store(app_settings),
                           run_id="browser-chat")
    assert report.failed == 0, report
    for _ in range(100):  # the API's own account of the sync, as the Documents page reads it
        progress = http.get("/store/progress").json()["data"]
        if progress["status"] != "in_progress":
            break
        time.sleep(0.1)
    assert (progress["status"], progress["percent"], progress["failed"]) == ("completed", 100.0, 0), progress
    files = {f["id"]: f for f in http.get("/store").json()["data"]["files"]}
    assert files[data["id"]]["status"] == "active" and files[data["id"]]["chunks"] >= 2, files
    http.close()
    return data["id"]


def test_a_cited_answer_streams_then_the_chat_is_continued_and_deleted(page, tenant, base_url, sync_engine,
                                                                        app_settings):
    file_id = sync_pdf(base_url, tenant, sync_engine, app_settings)
    sign_in(page, tenant.key)
    page.get_by_role("link", name="Chat", exact=True).click()
    page.get_by_role("heading", name="Chat", exact=True).wait_for()
    expect(page.get_by_text("No conversations yet.")).to_be_visible()
    page.get_by_label("Your question").fill(QUESTION)
    page.get_by_role("button", name="Ask").click()

    answer = page.get_by_role("article", name="Answer").first
    expect(answer).to_have_attribute("data-state", "complete")
    expect(answer).to_contain_text("The harbour master opens the lock gates two hours before high tide [1].")
    # [1] is a link to the cited file and page
    cite = answer.get_by_role("link", name="Source 1: harbour.pdf, page 2")
    expect(cite).to_have_text("[1]")
    assert cite.get_attribute("href") == f"/portal/documents?file={file_id}&page=2"
    sources = answer.locator("details.sources")
    expect(sources).to_contain_text("harbour.pdf, page 2")
    expect(sources).to_contain_text("cited")
    expect(answer).to_contain_text("tokens")
    # the address names the conversation now, and the history sidebar lists it
    expect(page).to_have_url(re.compile(r"/portal/chat/[0-9a-f-]{36}$"))
    chat_id = page.url.rsplit("/", 1)[1]
    history = page.get_by_role("complementary", name="Conversations")
    expect(history.get_by_role("link", name=QUESTION)).to_be_visible()
    expect(history).to_contain_text("2 messages")
    screenshot(page, "chat")

    # continue the chat: the follow-up goes into the same conversation
    page.get_by_label("Your question").fill(FOLLOW_UP)
    page.get_by_role("button", name="Ask").click()
    second = page.get_by_role("article", name="Answer").nth(1)
    expect(second).to_have_attribute("data-state", "complete")
    expect(second).to_contain_text("Visitors report to the harbour office on arrival")
    expect(second.get_by_role("link", name="Source 1: harbour.pdf, page 1")).to_be_visible()
    expect(history).to_contain_text("4 messages")
    assert page.url.endswith(f"/portal/chat/{chat_id}")
    stored = httpx.get(f"{base_url}/api/v1/chat/history/{chat_id}", headers=tenant.headers).json()["data"]
    assert [m["role"] for m in stored["messages"]] == ["user", "assistant", "user", "assistant"]

    # the citation opens the Documents page on that file and page
    cite.click()
    expect(page.get_by_role("heading", name="Documents and RAG store")).to_be_visible()
    expect(page.get_by_text("Cited source: harbour.pdf, page 2 (of 2 pages).")).to_be_visible()
    expect(page.locator("tr[aria-current=true]")).to_contain_text("harbour.pdf")
    screenshot(page, "chat-cited-document")

    # reopened from the history: both turns, with their citations, from GET /chat/history/{id}
    page.get_by_role("link", name="Chat", exact=True).click()
    history.get_by_role("link", name=QUESTION).click()
    expect(page.get_by_role("heading", name=QUESTION)).to_be_visible()
    expect(page.get_by_role("article", name="Question")).to_have_count(2)
    expect(page.get_by_role("article", name="Answer").first.get_by_role("link", name="Source 1: harbour.pdf, page 2")
           ).to_be_visible()

    page.get_by_role("button", name=f"Delete chat {QUESTION}").click()  # the confirm dialog is accepted
    expect(page.get_by_text("No conversations yet.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/portal/chat$"))
    gone = httpx.get(f"{base_url}/api/v1/chat/history/{chat_id}", headers=tenant.headers)
    assert gone.status_code == 404


def test_a_tool_call_is_shown_and_another_tenants_chat_is_not_found(page, tenant, base_url):
    ingest = httpx.post(f"{base_url}/api/v1/ingest/fasteners?entity_type=product", headers=tenant.headers,
                        json=[{"name": "Hex bolt M8"}, {"name": "Wing nut M8"}], timeout=60)
    assert ingest.status_code == 200, ingest.text
    sign_in(page, tenant.key)
    page.goto("/portal/chat")
    page.get_by_label("Your question").fill("How many records are in fasteners?")
    page.get_by_role("button", name="Ask").click()
    answer = page.get_by_role("article", name="Answer").last
    expect(answer).to_have_attribute("data-state", "complete")
    tool = answer.locator("details.tool")
    expect(tool.locator("summary")).to_have_text("Tool collection_stats: ok")
    tool.locator("summary").click()
    expect(tool).to_contain_text('"collection": "fasteners"')
    expect(answer).to_contain_text("Collection fasteners has 2 active records")
    screenshot(page, "chat-tool")

    other: Tenant = register(base_url, "other")
    theirs = httpx.post(f"{base_url}/api/v1/chat", headers=other.headers,
                        json={"tenantId": other.tenant_id, "message": "zanzibar ledger", "stream": False}, timeout=60)
    assert theirs.status_code == 200, theirs.text
    page.goto(f"/portal/chat/{theirs.json()['data']['chatId']}")
    expect(page.get_by_role("heading", name="404 · Not found")).to_be_visible()
    assert "zanzibar" not in page.content()


@pytest.mark.phone
def test_the_chat_on_a_phone_sized_screen(page, tenant, base_url, sync_engine, app_settings):
    sync_pdf(base_url, tenant, sync_engine, app_settings)
    sign_in(page, tenant.key)
    page.goto("/portal/chat")
    page.get_by_label("Your question").fill(QUESTION)
    page.get_by_label("Your question").press("Control+Enter")
    expect(page.get_by_role("article", name="Answer")).to_have_attribute("data-state", "complete")
    expect(page.get_by_role("link", name="Source 1: harbour.pdf, page 2")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the chat scrolls sideways on a phone ({width}px)"
    screenshot(page, "phone-chat-answer")
