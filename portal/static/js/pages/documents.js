// Documents: each account's files (upload, delete), the RAG store (sync with live progress: percent,
// ETA, current file; exclude, include, delete, resync) and the store's audit log.
import { api, ApiError, unwrap, upload } from "../api.js";
import { field, h, notice, num, replace, when } from "../dom.js";
import { can, onLeave, session } from "../app.js";

const size = (b) => (b >= 1048576 ? `${(b / 1048576).toFixed(1)} MB` : `${Math.max(1, Math.round(b / 1024))} kB`);

export async function documentsPage(main) {
  document.title = "Documents · Kariz";
  const tenant = session().tenantId;
  const status = notice();
  const accounts = unwrap(await api("GET", `/tenants/${tenant}/accounts`, { query: { limit: 100 } }));
  const account = h("select", { name: "account" }, accounts.map((a) => h("option", { value: a.id }, `${a.email} (${a.role})`)));
  // `?file=ID&page=N` (a chat citation's link): that file's account is picked and its row marked
  const wanted = new URLSearchParams(location.search);
  const target = wanted.get("file");
  const targetPage = wanted.get("page");
  const cited = h("p", { class: "notice", role: "status" });
  if (target) {
    const found = unwrap(await api("GET", `/tenants/${tenant}/store`)).files.find((f) => f.id === target);
    if (found) {
      account.value = found.accountId;
      cited.className = "notice info cited";
      replace(cited, `Cited source: ${found.name}`, targetPage ? `, page ${targetPage}` : "",
        found.pages ? ` (of ${num(found.pages)} page${found.pages === 1 ? "" : "s"})` : "", ".");
    } else {
      cited.className = "notice warn";
      replace(cited, "The cited file is no longer in the RAG store.");
    }
  }
  const files = h("tbody", {});
  const progressBox = h("div", { class: "card", "aria-live": "polite" });
  const storeBox = h("div", {});
  const audit = h("tbody", {});
  const write = can("tenant:write");
  let timer = null;
  onLeave(() => clearInterval(timer));

  const say = (err) => status.show(err instanceof ApiError ? err.words : String(err), "error");

  async function act(action, ids, done) {
    try {
      const answer = unwrap(await api("POST", `/tenants/${tenant}/store/files/actions`, { body: { action, fileIds: ids } }));
      const failed = answer.results.filter((r) => !r.ok);
      status.show(failed.length ? `${action}: ${failed.map((r) => r.error).join("; ")}` : `${done}.`, failed.length ? "error" : "ok");
      await refresh();
      if (answer.operationId) watch();
    } catch (err) { say(err); }
  }

  async function sync(ids) {
    try {
      const op = unwrap(await api("POST", `/tenants/${tenant}/store/sync`, { body: { assetIds: ids } }));
      status.show(`Sync of ${op.total} file${op.total === 1 ? "" : "s"} queued.`, "ok");
      watch();
    } catch (err) { say(err); }
  }

  function fileRow(f) {
    const actions = [];
    if (write) {
      if (!f.inStore || f.status === "failed") actions.push(h("button", { type: "button", "aria-label": `Sync ${f.name}`, onclick: () => sync([f.id]) }, "Sync"));
      if (f.inStore && !f.excluded) actions.push(h("button", { type: "button", class: "secondary", "aria-label": `Exclude ${f.name}`, onclick: () => act("exclude", [f.id], `Excluded ${f.name}`) }, "Exclude"));
      if (f.excluded) actions.push(h("button", { type: "button", class: "secondary", "aria-label": `Include ${f.name}`, onclick: () => act("include", [f.id], `Included ${f.name}`) }, "Include"));
      if (f.inStore) actions.push(h("button", { type: "button", class: "secondary", "aria-label": `Remove ${f.name} from the store`, onclick: () => act("delete", [f.id], `Removed ${f.name} from the store`) }, "Remove from store"));
      actions.push(h("button", { type: "button", class: "danger", "aria-label": `Delete ${f.name}`, onclick: async () => {
        if (!window.confirm(`Delete ${f.name} from the vault?`)) return;
        try {
          await api("DELETE", `/tenants/${tenant}/accounts/${account.value}/files/${f.id}`);
          status.show(`Deleted ${f.name}.`, "ok");
          await refresh();
        } catch (err) { say(err); }
      } }, "Delete"));
    }
    const isTarget = f.id === target;
    return h("tr", { class: `${f.excluded ? "revoked" : ""}${isTarget ? " target" : ""}`, "aria-current": isTarget ? "true" : null },
      h("th", { scope: "row" }, f.name, isTarget && targetPage ? h("span", { class: "meta" }, ` · page ${targetPage}`) : null), h("td", { class: "n" }, size(f.sizeBytes)),
      h("td", {}, f.excluded ? "excluded" : f.status, f.error ? ` (${f.error})` : ""),
      h("td", { class: "n" }, num(f.chunks)), h("td", {}, when(f.syncedAt)), h("td", {}, actions));
  }

  async function refresh() {
    if (account.value) {
      const list = unwrap(await api("GET", `/tenants/${tenant}/accounts/${account.value}/files`, { query: { limit: 100 } }));
      replace(files, list.map(fileRow));
    }
    const s = unwrap(await api("GET", `/tenants/${tenant}/store`));
    replace(storeBox, h("p", { class: "meta" },
      `Store: ${num(s.counts.active)} active, ${num(s.counts.excluded)} excluded, ${num(s.counts.pending + s.counts.syncing)} waiting, `,
      `${num(s.counts.failed)} failed · ${num(s.chunks)} chunks · ${size(s.storage.usedBytes)} of ${size(s.storage.quotaBytes)} `,
      `(${s.storage.percentUsed.toFixed(1)}%)`));
    const events = unwrap(await api("GET", `/tenants/${tenant}/store/audit`, { query: { limit: 20 } }));
    replace(audit, events.map((e) => h("tr", {}, h("td", {}, when(e.at)), h("th", { scope: "row" }, e.event),
      h("td", {}, Object.entries(e.details || {}).map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`).join(" · ")))));
  }

  function drawProgress(p) {
    const bar = h("progress", { max: "100", value: String(p.percent), "aria-label": "Sync progress" });
    replace(progressBox, h("h2", {}, "Sync"),
      p.status === "idle" ? h("p", {}, "No sync has run yet.") : [bar,
        h("p", {}, `${p.status.replace("_", " ")}: ${p.percent.toFixed(0)}% · ${num(p.processed)} of ${num(p.total)} files`,
          p.failed ? ` · ${num(p.failed)} failed` : "",
          p.etaSeconds != null && p.status === "in_progress" ? ` · about ${Math.ceil(p.etaSeconds)} s left` : "",
          p.currentFile ? ` · now: ${p.currentFile.name || p.currentFile.id}` : "")]);
  }

  async function poll() {
    try {
      const p = unwrap(await api("GET", `/tenants/${tenant}/store/progress`));
      drawProgress(p);
      if (p.status !== "in_progress") {
        clearInterval(timer);
        timer = null;
        await refresh();
      }
    } catch (err) { clearInterval(timer); say(err); }
  }

  function watch() {
    clearInterval(timer);
    timer = setInterval(poll, 1500);
    poll();
  }

  const file = h("input", { type: "file", name: "file", accept: ".pdf,.txt,.md,.docx,application/pdf,text/plain,text/markdown" });
  const alsoSync = h("input", { type: "checkbox", name: "sync", checked: true });
  const bar = h("progress", { max: "1", value: "0", "aria-label": "Upload progress", hidden: true });
  const form = h("form", { class: "card" }, field("File (PDF, TXT, Markdown or DOCX)", file),
    h("label", { class: "check" }, alsoSync, " also sync it into the RAG store"),
    h("button", { type: "submit" }, "Upload"), bar);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!file.files.length || !account.value) return;
    bar.hidden = false;
    try {
      const f = unwrap(await upload(`/tenants/${tenant}/accounts/${account.value}/files`, file.files[0], {
        query: { sync: alsoSync.checked ? "true" : "" }, onProgress: (x) => { bar.value = x; } }));
      status.show(`${f.created === false ? "Already in the vault" : "Uploaded"}: ${f.name}.`, "ok");
      file.value = "";
      await refresh();
      if (f.operationId) watch();
    } catch (err) { say(err); }
  });
  account.addEventListener("change", () => refresh().catch(say));

  await refresh();
  const p = unwrap(await api("GET", `/tenants/${tenant}/store/progress`));
  drawProgress(p);
  if (p.status === "in_progress") watch();
  replace(main, h("h1", {}, "Documents and RAG store"),
    accounts.length ? field("Account", account) : h("p", {}, "Create an account first (Accounts page)."),
    target ? cited : null, status, storeBox,
    h("div", { class: "scroll" }, h("table", {}, h("caption", {}, "Files of this account"),
      h("thead", {}, h("tr", {}, ["Name", "Size", "State", "Chunks", "Synced", ""].map((t) => h("th", { scope: "col" }, t)))), files)),
    write && accounts.length ? form : null,
    progressBox,
    h("h2", {}, "Audit log"),
    h("div", { class: "scroll" }, h("table", {}, h("caption", {}, "Newest first"),
      h("thead", {}, h("tr", {}, ["When", "Event", "Details"].map((t) => h("th", { scope: "col" }, t)))), audit)));
}
