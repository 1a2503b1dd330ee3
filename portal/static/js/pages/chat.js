// Chat: ask the grounded chat (POST /chat, its SSE read from the POST's body as it arrives), the
// answer rendered delta by delta with its `[n]` citations linked to the cited file and page, the
// sources and tool calls under it; the history sidebar (GET /chat/history), a conversation reopened
// (GET /chat/history/{id}) and continued (chatId), deleted (DELETE /chat/history/{id}).
import { api, ApiError, unwrap } from "../api.js";
import { field, h, notice, num, replace, when } from "../dom.js";
import { BASE, can, link, navigate, onLeave, session } from "../app.js";
import { notFoundPage } from "./notfound.js";
import { postStream } from "../sse.js";

const MARKER = /\[(\d{1,4})\]/g;
const PAGE_SIZE = 20;

/** Where a source is in the portal: the Documents page with that file (and page) picked out. */
export function sourceHref(source) {
  const q = new URLSearchParams({ file: source.assetId });
  if (source.page != null) q.set("page", String(source.page));
  return `${BASE}/documents?${q}`;
}

function sourceName(source) {
  return source.page != null ? `${source.fileName}, page ${source.page}` : source.fileName;
}

/** `text` as nodes, each `[n]` that names a source a link to that file and page. */
function withCitations(text, sources) {
  const byN = new Map(sources.map((s) => [s.n, s]));
  const out = [];
  let last = 0;
  for (const m of text.matchAll(MARKER)) {
    const source = byN.get(Number(m[1]));
    if (!source) continue;
    out.push(text.slice(last, m.index));
    out.push(h("a", { class: "cite", href: sourceHref(source), "aria-label": `Source ${source.n}: ${sourceName(source)}`,
      title: sourceName(source) }, m[0]));
    last = m.index + m[0].length;
  }
  out.push(text.slice(last));
  return out;
}

function sourcesView(sources, cited) {
  if (!sources.length) return null;
  const citedN = new Set(cited.map((c) => c.n));
  return h("details", { class: "sources", open: true },
    h("summary", {}, `Sources (${sources.length}${citedN.size ? `, ${citedN.size} cited` : ""})`),
    h("ol", {}, sources.map((s) => h("li", { value: String(s.n) },
      h("a", { href: sourceHref(s) }, sourceName(s)),
      h("span", { class: "meta" }, ` · score ${Number(s.score).toFixed(3)}${citedN.has(s.n) ? " · cited" : ""}`),
      s.snippet ? h("blockquote", {}, s.snippet) : null))));
}

function toolView(call) {
  const state = call.ok === undefined ? "running…" : call.ok ? "ok" : "failed";
  return h("details", { class: "tool" },
    h("summary", {}, `Tool ${call.name}: ${state}`),
    h("p", { class: "meta" }, "Arguments"), h("pre", {}, JSON.stringify(call.arguments ?? {}, null, 2)),
    call.output !== undefined ? [h("p", { class: "meta" }, "Result"), h("pre", {}, JSON.stringify(call.output, null, 2))] : null);
}

/** One assistant answer, redrawn as its parts arrive. */
class AnswerView {
  constructor() {
    this.text = "";
    this.sources = [];
    this.citations = [];
    this.calls = new Map();
    this.error = null;
    this.usage = null;
    this.textEl = h("div", { class: "text" });
    this.toolsEl = h("div", { class: "tools" });
    this.sourcesEl = h("div", {});
    this.footEl = h("p", { class: "meta" });
    this.el = h("article", { class: "msg assistant", "aria-label": "Answer", "data-state": "streaming", "aria-busy": "true" },
      h("p", { class: "who" }, "Kariz"), this.toolsEl, this.textEl, this.sourcesEl, this.footEl);
  }

  static fromMessage(m) {
    const view = new AnswerView();
    view.text = m.content;
    view.sources = m.sources || [];
    view.citations = m.citations || [];
    for (const c of m.toolCalls || []) view.calls.set(c.id, c);
    view.usage = m.usage;
    view.finish(m.status, m.status === "error" ? { message: "the answer failed" } : null);
    return view;
  }

  draw() {
    replace(this.textEl, withCitations(this.text, this.sources));
    replace(this.toolsEl, [...this.calls.values()].map(toolView));
    replace(this.sourcesEl, sourcesView(this.sources, this.citations));
  }

  event(name, data) {
    if (name === "sources") this.sources = data.items;
    else if (name === "delta") this.text += data.text;
    else if (name === "citation") this.citations.push(data);
    else if (name === "tool_call") this.calls.set(data.id, { ...data });
    else if (name === "tool_result") this.calls.set(data.id, { ...(this.calls.get(data.id) || {}), ...data });
    else if (name === "error") this.error = data;
    else if (name === "done") this.usage = data.usage;
    else return;
    this.draw();
  }

  finish(status, error = this.error) {
    this.draw();
    this.el.setAttribute("data-state", status);
    this.el.removeAttribute("aria-busy");
    const parts = [];
    if (status === "interrupted") parts.push("Stopped before the end.");
    if (this.usage) parts.push(`${num(this.usage.totalTokens)} tokens`);
    replace(this.footEl, parts.join(" · "));
    if (error) this.el.append(h("p", { class: "notice error", role: "alert" }, `The answer failed: ${error.message}`));
  }
}

function questionView(text) {
  return h("article", { class: "msg user", "aria-label": "Question" }, h("p", { class: "who" }, "You"),
    h("div", { class: "text" }, text));
}

export async function chatPage(main, { id } = {}) {
  document.title = "Chat · Kariz";
  const tenant = session().tenantId;
  const status = notice();
  const thread = h("div", { class: "thread", "aria-live": "polite", "aria-label": "Conversation", role: "log" });
  const historyList = h("ul", { class: "history" });
  const more = h("button", { type: "button", class: "secondary small", hidden: true }, "Older conversations");
  let chatId = id || null;
  let title = null;
  let offset = 0;
  let aborter = null;
  onLeave(() => aborter?.abort());
  const say = (err) => status.show(err instanceof ApiError ? err.words : String(err), "error");

  if (chatId) {
    let chat;
    try {
      chat = unwrap(await api("GET", `/chat/history/${encodeURIComponent(chatId)}`));
    } catch (err) {
      // another tenant's conversation is refused (403): to the reader it is simply not there
      if (err instanceof ApiError && (err.status === 403 || err.status === 404 || err.status === 400)) {
        return notFoundPage(main, "No such conversation.");
      }
      throw err;
    }
    title = chat.title;
    document.title = `${chat.title} · Chat · Kariz`;
    for (const m of chat.messages) {
      thread.append(m.role === "user" ? questionView(m.content) : AnswerView.fromMessage(m).el);
    }
  }

  async function remove(chat) {
    if (!window.confirm(`Delete the conversation “${chat.title}”? Its messages are gone for good.`)) return;
    try {
      await api("DELETE", `/chat/history/${encodeURIComponent(chat.chatId)}`);
      if (chat.chatId === chatId) {
        navigate("/chat");
        return;
      }
      status.show(`Deleted “${chat.title}”.`, "ok");
      await loadHistory();
    } catch (err) { say(err); }
  }

  async function loadHistory(append = false) {
    if (!append) offset = 0;
    const answer = await api("GET", "/chat/history", { query: { tenantId: tenant, limit: PAGE_SIZE, offset } });
    const items = answer.data.map((c) => h("li", { class: c.chatId === chatId ? "current" : "" },
      link(`/chat/${c.chatId}`, c.title, c.chatId === chatId ? { "aria-current": "page" } : {}),
      h("div", { class: "meta" }, `${num(c.messageCount)} message${c.messageCount === 1 ? "" : "s"} · ${when(c.updatedAt)}`),
      can("chat:delete") ? h("button", { type: "button", class: "danger small", "aria-label": `Delete chat ${c.title}`,
        onclick: () => remove(c) }, "Delete") : null));
    if (append) historyList.append(...items);
    else replace(historyList, items.length ? items : h("li", { class: "meta" }, "No conversations yet."));
    offset += answer.data.length;
    more.hidden = !answer.pagination.hasMore;
  }
  more.addEventListener("click", () => loadHistory(true).catch(say));

  // which documents answer: the whole tenant's store, or one account's (a member's key is confined
  // to its own account by the API whatever is picked here)
  let accountPick = null;
  try {
    const accounts = unwrap(await api("GET", `/tenants/${tenant}/accounts`, { query: { limit: 100 } }));
    if (accounts.length) {
      accountPick = h("select", { name: "account" }, h("option", { value: "" }, "All accounts"),
        accounts.map((a) => h("option", { value: a.id }, a.email)));
    }
  } catch { /* a session that may not list accounts asks over what the API allows it */ }

  const heading = h("h1", { id: "chat-title" }, title || "Chat");
  const deleteThis = h("button", { type: "button", class: "danger", hidden: !chatId || !can("chat:delete") }, "Delete this chat");
  deleteThis.addEventListener("click", () => remove({ chatId, title }));
  const newChat = link("/chat", "New chat", { class: "button secondary" });

  const question = h("textarea", { name: "message", rows: "3", required: true, maxlength: "8000",
    placeholder: "Ask about your documents" });
  const send = h("button", { type: "submit" }, "Ask");
  const stop = h("button", { type: "button", class: "secondary", hidden: true }, "Stop");
  stop.addEventListener("click", () => aborter?.abort());
  const form = h("form", { class: "ask", "aria-label": "Ask a question" },
    field("Your question", question, "Answers come from the documents synced into the RAG store, with their sources."),
    accountPick ? field("Documents of", accountPick) : null, send, stop);
  question.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); }
  });

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const message = question.value.trim();
    if (!message || aborter) return;
    status.clear();
    const body = { tenantId: tenant, message };
    if (chatId) body.chatId = chatId;
    if (accountPick?.value) body.accountId = accountPick.value;
    const asked = questionView(message);
    const answer = new AnswerView();
    thread.append(asked, answer.el);
    question.value = "";
    send.disabled = true;
    stop.hidden = false;
    aborter = new AbortController();
    let ended = "complete";
    try {
      await postStream("/chat", body, (name, data) => {
        if (name === "start" && !chatId) {
          chatId = data.chatId;
          title = message;
          // the address now names this conversation, without reloading the page
          history.replaceState({}, "", `${BASE}/chat/${encodeURIComponent(chatId)}`);
        }
        answer.event(name, data);
      }, { signal: aborter.signal });
      if (answer.error) ended = "error";
    } catch (err) {
      if (err.name === "AbortError" || aborter.signal.aborted) {
        ended = "interrupted";
      } else {
        ended = "error";
        if (!answer.text) { asked.remove(); answer.el.remove(); question.value = message; }
        say(err);
      }
    } finally {
      answer.finish(ended);
      aborter = null;
      send.disabled = false;
      stop.hidden = true;
      deleteThis.hidden = !chatId || !can("chat:delete");
      heading.textContent = title || "Chat";
    }
    await loadHistory().catch(say);
  });

  await loadHistory();
  replace(main,
    h("div", { class: "chat" },
      h("aside", { class: "side card", "aria-labelledby": "history-title" },
        h("h2", { id: "history-title" }, "Conversations"), newChat, historyList, more),
      h("section", { "aria-labelledby": "chat-title" },
        heading, status, thread,
        can("chat:write") ? form : h("p", { class: "meta" }, "This session may read conversations but not ask."),
        h("p", {}, deleteThis))));
  if (can("chat:write")) question.focus({ preventScroll: true });
  return undefined;
}
