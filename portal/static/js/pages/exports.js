// Exports: start one, watch its progress, download the file when it is ready.
import { api, ApiError, unwrap } from "../api.js";
import { field, h, notice, num, replace, when } from "../dom.js";
import { onLeave } from "../app.js";

export async function exportsPage(main) {
  document.title = "Exports · Kariz";
  const collections = unwrap(await api("GET", "/collections"));
  const wanted = new URLSearchParams(location.search).get("collection");
  const collection = h("select", { name: "collection", required: true },
    collections.map((c) => h("option", { value: c.name, selected: c.name === wanted }, c.name)));
  const format = h("select", { name: "format" }, h("option", { value: "csv" }, "CSV"), h("option", { value: "json" }, "JSON"));
  const recordStatus = h("select", { name: "status" }, ["active", "archived", "draft"].map((s) => h("option", { value: s }, s)));
  const status = notice();
  const jobs = h("ul", { class: "jobs", "aria-live": "polite" });
  const timers = [];
  onLeave(() => timers.forEach(clearInterval));

  function track(exportId, label) {
    const bar = h("progress", { max: "1", value: "0", "aria-label": `Progress of ${label}` });
    const text = h("span", {}, "processing");
    const item = h("li", { class: "card" }, h("strong", {}, label), " ", bar, " ", text);
    jobs.prepend(item);
    const timer = setInterval(async () => {
      try {
        const s = unwrap(await api("GET", `/export/${encodeURIComponent(exportId)}/status`));
        if (s.total) { bar.max = String(s.total); bar.value = String(s.progress || 0); }
        replace(text, s.progress == null ? s.status : `${s.status}: ${num(s.progress)}${s.total ? ` of ${num(s.total)}` : ""} rows`);
        if (s.status === "completed") {
          clearInterval(timer);
          bar.max = "1"; bar.value = "1";
          item.append(" ", h("a", { href: `/api/v1/export/${encodeURIComponent(exportId)}/download`, download: "",
            class: "button" }, `Download ${label}`));
        } else if (s.status !== "processing" && s.status !== "queued") {
          clearInterval(timer);
          item.append(h("p", { class: "notice error", role: "alert" }, s.error || `export ${s.status}`));
        }
      } catch (err) {
        clearInterval(timer);
        item.append(h("p", { class: "notice error", role: "alert" }, err instanceof ApiError ? err.words : String(err)));
      }
    }, 1000);
    timers.push(timer);
  }

  const form = h("form", { class: "card" }, field("Collection", collection), field("Format", format),
    field("Records", recordStatus), h("button", { type: "submit", disabled: !collections.length }, "Start export"), status);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const started = unwrap(await api("POST", "/export", {
        query: { collection: collection.value, format: format.value, status: recordStatus.value } }));
      status.show(`Export ${started.export_id} started.`, "ok");
      track(started.export_id, `${collection.value}.${format.value}`);
    } catch (err) {
      status.show(err instanceof ApiError ? err.words : String(err), "error");
    }
  });
  const active = unwrap(await api("GET", "/export/active"));
  replace(main, h("h1", {}, "Exports"), form, h("h2", {}, "This session's exports"), jobs,
    active.length ? [h("h2", {}, "Still processing"), h("ul", {}, active.map((a) =>
      h("li", {}, `${a.collection} (${a.format}) since ${when(a.created_at)}: ${num(a.progress)} rows`)))] : null);
  for (const a of active) track(a.export_id, `${a.collection}.${a.format}`);
}
