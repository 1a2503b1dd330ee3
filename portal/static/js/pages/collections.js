// Collections: the list, the search page (filters built from the field catalog), one record,
// uploads with a progress bar, and the blue-green replace with its live status.
import { api, ApiError, upload } from "../api.js";
import { field, h, notice, num, replace, when } from "../dom.js";
import { can, link, navigate, onLeave } from "../app.js";

const enc = encodeURIComponent;

export async function collectionsPage(main) {
  document.title = "Collections · Kariz";
  const answer = await api("GET", "/collections");
  const rows = answer.data.map((c) => h("tr", {},
    h("th", { scope: "row" }, link(`/collections/${enc(c.name)}`, c.name)),
    h("td", { class: "n" }, num(c.recordCount)),
    h("td", { class: "n" }, String(c.activeGeneration)),
    h("td", {}, c.stagingGeneration ? `generation ${c.stagingGeneration} staged` : "–"),
    h("td", {}, when(c.updatedAt))));
  replace(main,
    h("h1", {}, "Collections"),
    can("tenant:write") ? h("p", {}, link("/upload", "Upload a file", { class: "button" })) : null,
    rows.length
      ? h("div", { class: "scroll" }, h("table", {},
        h("caption", {}, `${rows.length} collection${rows.length === 1 ? "" : "s"}`),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Name"), h("th", { scope: "col" }, "Records"),
          h("th", { scope: "col" }, "Live generation"), h("th", { scope: "col" }, "Pending replace"),
          h("th", { scope: "col" }, "Updated"))),
        h("tbody", {}, rows)))
      : h("p", {}, "No collections yet. Upload a file to create one."));
}

function filterControls(fields) {
  // numbers: min and max; booleans: a three-way toggle; few distinct values: a pick list
  const controls = [];
  for (const f of fields) {
    if (f.kinds.includes("number")) {
      const min = h("input", { type: "number", step: "any", "data-filter": `${f.name}_min`, inputmode: "decimal" });
      const max = h("input", { type: "number", step: "any", "data-filter": `${f.name}_max`, inputmode: "decimal" });
      controls.push(h("fieldset", { class: "range" }, h("legend", {}, f.name),
        field("min", min), field("max", max)));
    } else if (f.kinds.includes("boolean")) {
      const select = h("select", { "data-filter": f.name, "data-kind": "boolean" },
        h("option", { value: "" }, "any"), h("option", { value: "true" }, "yes"), h("option", { value: "false" }, "no"));
      controls.push(field(f.name, select));
    } else if (f.values && f.values.length) {
      const select = h("select", { multiple: true, size: String(Math.min(f.values.length, 4)),
        "data-filter": `${f.name}_in`, "data-kind": "list" }, f.values.map((v) => h("option", { value: v }, v)));
      controls.push(field(f.name, select, "Pick one or more (Ctrl or Shift to add)"));
    }
  }
  return controls;
}

function readFilters(form) {
  const filters = {};
  for (const el of form.querySelectorAll("[data-filter]")) {
    const key = el.dataset.filter;
    if (el.dataset.kind === "list") {
      const picked = [...el.selectedOptions].map((o) => o.value);
      if (picked.length) filters[key] = picked;
    } else if (el.dataset.kind === "boolean") {
      if (el.value) filters[key] = el.value === "true";
    } else if (el.value !== "") {
      filters[key] = Number(el.value);
    }
  }
  return filters;
}

function preview(data) {
  const parts = Object.entries(data || {}).slice(0, 4).map(([k, v]) =>
    `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`);
  return parts.join(" · ");
}

export async function searchPage(main, { name }) {
  document.title = `${name} · Kariz`;
  const detail = (await api("GET", `/collections/${enc(name)}`)).data;
  const status = notice();
  const query = h("input", { type: "search", name: "query", maxlength: "500", autocomplete: "off" });
  const mode = h("select", { name: "mode" }, ["auto", "fulltext", "hybrid", "semantic"].map((m) =>
    h("option", { value: m }, { auto: "auto", fulltext: "full text", hybrid: "hybrid", semantic: "semantic" }[m])));
  const sort = h("select", { name: "sort" }, h("option", { value: "" }, "relevance"),
    ["name", "updated_at", ...detail.fields.map((f) => f.name)].flatMap((f) => [
      h("option", { value: f }, `${f} ↑`), h("option", { value: `-${f}` }, `${f} ↓`)]));
  const limit = 20;
  let offset = 0;
  const results = h("section", { "aria-label": "Results", class: "results" });
  const form = h("form", { class: "card search", role: "search" },
    field("Search", query, "Words, part numbers or codes; leave empty to list by filters"),
    h("div", { class: "row" }, field("Mode", mode), field("Sort", sort)),
    h("details", { open: detail.fields.length <= 6 }, h("summary", {}, "Filters"),
      h("div", { class: "filters" }, filterControls(detail.fields))),
    h("button", { type: "submit" }, "Search"));

  async function run() {
    const body = { limit, offset, filters: readFilters(form) };
    if (query.value.trim()) body.query = query.value.trim();
    if (mode.value !== "auto") body.search_mode = mode.value;
    if (sort.value) body.sort = sort.value;
    if (!body.query && !Object.keys(body.filters).length) {
      status.show("Type a query or choose a filter.", "error");
      return;
    }
    status.show("Searching…");
    try {
      const answer = await api("POST", `/search/${enc(name)}`, { body });
      status.clear();
      showResults(answer);
    } catch (err) {
      status.show(err instanceof ApiError ? err.words : String(err), "error");
    }
  }

  function showResults(answer) {
    const meta = answer.metadata;
    const timings = Object.entries(meta.timings || {}).map(([k, v]) => `${k} ${Number(v).toFixed(1)} ms`).join(", ");
    const rows = answer.results.map((r) => h("tr", {},
      h("th", { scope: "row" }, link(`/collections/${enc(name)}/records/${enc(r.record_id)}`, r.name)),
      h("td", { class: "n" }, r.score.toFixed(3)),
      h("td", {}, r.record_type),
      h("td", {}, preview(r.collection_data))));
    const prev = h("button", { type: "button", class: "secondary", disabled: offset === 0,
      onclick: () => { offset = Math.max(0, offset - limit); run(); } }, "Previous page");
    const next = h("button", { type: "button", class: "secondary", disabled: !answer.pagination.has_more,
      onclick: () => { offset += limit; run(); } }, "Next page");
    replace(results,
      h("p", { class: "meta" },
        `About ${num(meta.total_estimate)} matches · ${meta.search_mode} · ${meta.query_type} query · `,
        `${Number(meta.processing_time_ms).toFixed(1)} ms`, meta.cache_hit ? " (cached)" : "",
        meta.zero_result_fallback_used ? " · no match for the query: the filters alone answered" : "",
        meta.vector_fallback_used ? ` · full text answered (${meta.vector_fallback_reason})` : ""),
      timings ? h("p", { class: "meta" }, `Timings: ${timings}`) : null,
      rows.length
        ? h("div", { class: "scroll" }, h("table", {},
          h("caption", {}, `Results ${offset + 1}–${offset + rows.length}`),
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Name"), h("th", { scope: "col" }, "Score"),
            h("th", { scope: "col" }, "Type"), h("th", { scope: "col" }, "Fields"))),
          h("tbody", {}, rows)))
        : h("p", {}, "No results."),
      h("nav", { class: "pager", "aria-label": "Pages" }, prev, next));
  }

  form.addEventListener("submit", (e) => { e.preventDefault(); offset = 0; run(); });
  replace(main,
    h("h1", {}, name),
    h("p", { class: "meta" }, `${num(detail.recordCount)} record${detail.recordCount === 1 ? "" : "s"} · live generation ${detail.activeGeneration}`,
      detail.stagingGeneration ? ` · generation ${detail.stagingGeneration} staged` : ""),
    h("p", { class: "actions" },
      can("admin") ? link(`/collections/${enc(name)}/replace`, "Replace the whole collection", { class: "button secondary" }) : null,
      can("admin") ? link(`/exports?collection=${enc(name)}`, "Export", { class: "button secondary" }) : null),
    form, status, results);
  query.focus();
}

export async function recordPage(main, { name, id }) {
  const r = (await api("GET", `/collections/${enc(name)}/records/${enc(id)}`)).data;
  document.title = `${r.name} · Kariz`;
  const rows = Object.entries(r.collectionData).map(([k, v]) => h("tr", {},
    h("th", { scope: "row" }, k), h("td", {}, typeof v === "object" ? JSON.stringify(v) : String(v))));
  replace(main,
    h("p", {}, link(`/collections/${enc(name)}`, `← ${name}`)),
    h("h1", {}, r.name),
    h("dl", { class: "facts" },
      h("dt", {}, "Type"), h("dd", {}, r.recordType),
      h("dt", {}, "Status"), h("dd", {}, r.status),
      h("dt", {}, "Embedding"), h("dd", {}, r.embeddingStatus, r.embeddingError ? ` (${r.embeddingError})` : ""),
      h("dt", {}, "Generation"), h("dd", {}, String(r.generation)),
      h("dt", {}, "Source"), h("dd", {}, r.sourceType, r.sourceName ? ` · ${r.sourceName}` : ""),
      h("dt", {}, "Updated"), h("dd", {}, when(r.updatedAt)),
      r.descriptionLlm ? [h("dt", {}, "Description"), h("dd", {}, r.descriptionLlm)] : null),
    h("h2", {}, "Fields"),
    h("div", { class: "scroll" }, h("table", {}, h("tbody", {}, rows))),
    h("p", { class: "meta" }, `Record ${r.id}`));
}

function summaryOf(result) {
  const s = result.summary || {};
  return `${num(s.accepted)} accepted, ${num(s.rejected)} rejected, ${num(s.dedup_skipped)} already there ` +
    `(of ${num(s.submitted)} submitted)`;
}

function errorList(result) {
  const errors = result.errors || [];
  if (!errors.length) return null;
  return h("ul", { class: "errors" }, errors.slice(0, 20).map((e) =>
    h("li", {}, `line ${e.line}${e.field ? `, ${e.field}` : ""}: ${e.reason}`)));
}

export async function uploadPage(main) {
  document.title = "Upload · Kariz";
  const known = (await api("GET", "/collections")).data;
  const collection = h("input", { name: "collection", required: true, list: "known-collections", pattern: "[A-Za-z0-9_\\-]+" });
  const entityType = h("input", { name: "entity_type", required: true, value: "product" });
  const nameColumn = h("input", { name: "name_column" });
  const file = h("input", { type: "file", name: "file", required: true,
    accept: ".csv,.json,.ndjson,.jsonl,.xml,.pdf,text/csv,application/json,application/xml,application/pdf" });
  const bar = h("progress", { max: "1", value: "0", "aria-label": "Upload progress", hidden: true });
  const status = notice();
  const out = h("div", {});
  const form = h("form", { class: "card" },
    field("Collection", collection, "An existing collection, or a new name (letters, digits, - and _)"),
    h("datalist", { id: "known-collections" }, known.map((c) => h("option", { value: c.name }))),
    field("Record type", entityType), field("Name column (optional)", nameColumn, "Detected when empty"),
    field("File (CSV, JSON, NDJSON, XML or PDF)", file),
    h("button", { type: "submit" }, "Upload"), bar, status);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!file.files.length) return;
    bar.hidden = false;
    bar.value = 0;
    status.show("Uploading…");
    out.replaceChildren();
    try {
      const result = await upload(`/ingest/${enc(collection.value.trim())}/file`, file.files[0], {
        query: { entity_type: entityType.value.trim(), name_column: nameColumn.value.trim() },
        onProgress: (f) => { bar.value = f; },
      });
      status.show(`Uploaded: ${summaryOf(result)}.`, "ok");
      replace(out, errorList(result),
        h("p", {}, link(`/collections/${enc(collection.value.trim())}`, `Search ${collection.value.trim()}`)));
    } catch (err) {
      status.show(err instanceof ApiError ? err.words : String(err), "error");
    }
  });
  replace(main, h("h1", {}, "Upload a file"), form, out);
}

export async function replacePage(main, { name }) {
  document.title = `Replace ${name} · Kariz`;
  const detail = (await api("GET", `/collections/${enc(name)}`)).data;
  const vertical = `/portal/verticals/${enc(name)}`;
  const entityType = h("input", { name: "entity_type", required: true, value: "product" });
  const file = h("input", { type: "file", name: "file", required: true });
  const upBar = h("progress", { max: "1", value: "0", "aria-label": "Upload progress", hidden: true });
  const status = notice();
  const bar = h("div", { class: "stack-bar", role: "img", "aria-label": "Indexing progress" });
  const counts = h("p", { class: "meta", "aria-live": "polite" });
  const swap = h("button", { type: "button", disabled: true }, "Swap");
  const cancel = h("button", { type: "button", class: "danger", disabled: true }, "Cancel replace");
  const outcome = h("div", {});
  let timer = null;

  function drawStatus(s) {
    if (!s.has_pending_replace) {
      bar.replaceChildren();
      bar.setAttribute("aria-label", "No replace pending");
      replace(counts, "No replace is pending.");
    } else {
      const total = s.total || 1;
      const seg = (k, cls) => h("span", { class: `seg ${cls}`, style: null, "data-share": String(s[k] / total) });
      replace(bar, seg("indexed", "ok"), seg("processing", "busy"), seg("pending", "wait"), seg("failed", "bad"));
      for (const el of bar.children) el.style.flexGrow = el.dataset.share; // CSSOM: allowed by the CSP
      bar.setAttribute("aria-label", `${s.indexed} of ${s.total} indexed`);
      replace(counts, `Generation ${s.staging_generation} (${s.staging_status}): ${num(s.indexed)} indexed, `,
        `${num(s.processing)} processing, ${num(s.pending)} pending, ${num(s.failed)} failed of ${num(s.total)}`,
        s.ready_to_swap ? " · ready to swap" : "");
    }
    // enabled exactly when the API would accept them
    swap.disabled = !(s.has_pending_replace && s.ready_to_swap);
    cancel.disabled = !s.has_pending_replace;
  }

  async function poll() {
    try {
      drawStatus(await api("GET", `${vertical}/replace-status`));
    } catch (err) {
      status.show(err instanceof ApiError ? err.words : String(err), "error");
    }
  }

  const form = h("form", { class: "card" },
    field("Record type", entityType), field("New file for the whole collection", file),
    h("button", { type: "submit" }, "Upload into a staging generation"), upBar);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!file.files.length) return;
    upBar.hidden = false;
    status.show("Uploading…");
    try {
      const result = await upload(`${vertical}/replace`, file.files[0], {
        query: { entity_type: entityType.value.trim() }, onProgress: (f) => { upBar.value = f; } });
      status.show(`Staged generation ${result.staging.generation}: ${summaryOf(result)}. It goes live when you swap.`, "ok");
      await poll();
    } catch (err) {
      status.show(err instanceof ApiError ? err.words : String(err), "error");
    }
  });
  swap.addEventListener("click", async () => {
    swap.disabled = true;
    try {
      const r = await api("POST", `${vertical}/swap`);
      status.show(`Swapped: generation ${r.new_generation} is live.`, "ok");
      replace(outcome, h("p", { class: "swap-result" },
        `Before: generation ${r.old_generation} with ${num(r.old_entity_count)} records. `,
        `Now: generation ${r.new_generation} with ${num(r.new_entity_count)} records.`));
    } catch (err) {
      status.show(err instanceof ApiError ? err.words : String(err), "error");
    }
    await poll();
  });
  cancel.addEventListener("click", async () => {
    cancel.disabled = true;
    try {
      const r = await api("POST", `${vertical}/cancel-replace`);
      status.show(`Cancelled generation ${r.cancelled_generation} (${num(r.entities_archived)} records archived).`, "ok");
    } catch (err) {
      status.show(err instanceof ApiError ? err.words : String(err), "error");
    }
    await poll();
  });

  replace(main,
    h("p", {}, link(`/collections/${enc(name)}`, `← ${name}`)),
    h("h1", {}, `Replace ${name}`),
    h("p", {}, `The live generation ${detail.activeGeneration} (${num(detail.recordCount)} records) stays searchable `,
      "until you swap."),
    form, status,
    h("section", { "aria-labelledby": "status-title", class: "card" },
      h("h2", { id: "status-title" }, "Replace status"), bar, counts,
      h("p", { class: "actions" }, swap, cancel), outcome));
  await poll();
  timer = setInterval(poll, 1500);
  onLeave(() => clearInterval(timer));
}

export { navigate };
