// Connectors: the list, a create form (credentials typed into password fields, never shown
// again), and one connector with "pull now" and the pull's live status.
import { api, ApiError, unwrap } from "../api.js";
import { field, h, notice, num, replace, when } from "../dom.js";
import { can, link, navigate, onLeave } from "../app.js";

const CONFIG_FIELDS = {
  postgresql: [["dsn", "Connection URL (postgresql://user:password@host:5432/db)", "password"]],
  mysql: [["host", "Host", "text"], ["port", "Port", "number"], ["user", "User", "text"],
    ["password", "Password", "password"], ["database", "Database", "text"]],
  mongodb: [["uri", "Connection URI (mongodb://user:password@host)", "password"], ["database", "Database", "text"],
    ["collection", "Collection", "text"]],
  neo4j: [["uri", "Bolt URI (bolt://host:7687)", "text"], ["user", "User", "text"],
    ["password", "Password", "password"], ["database", "Database", "text"]],
};

function statusText(c) {
  return c.last_status ? `${c.last_status}${c.last_pull_at ? ` · ${when(c.last_pull_at)}` : ""}` : "never pulled";
}

function createForm(onCreated) {
  const status = notice();
  const name = h("input", { name: "name", required: true });
  const type = h("select", { name: "connector_type" }, Object.keys(CONFIG_FIELDS).map((t) => h("option", { value: t }, t)));
  const vertical = h("input", { name: "vertical", required: true });
  const entityType = h("input", { name: "entity_type", required: true, value: "product" });
  const query = h("textarea", { name: "query", rows: "3", required: true });
  const nameColumn = h("input", { name: "name_column" });
  const schedule = h("input", { name: "schedule", placeholder: "@hourly or a cron line (UTC)" });
  const configBox = h("fieldset", {}, h("legend", {}, "Connection"));
  let inputs = {};
  function drawConfig() {
    inputs = {};
    replace(configBox, h("legend", {}, "Connection"), CONFIG_FIELDS[type.value].map(([key, label, kind]) => {
      inputs[key] = h("input", { type: kind, name: key, autocomplete: kind === "password" ? "new-password" : "off",
        value: key === "port" ? "3306" : undefined });
      return field(label, inputs[key]);
    }));
  }
  type.addEventListener("change", drawConfig);
  drawConfig();
  const form = h("form", { class: "card", "aria-labelledby": "new-connector" },
    h("h2", { id: "new-connector" }, "New connector"),
    field("Name", name), field("Kind", type), field("Collection to fill", vertical), field("Record type", entityType),
    configBox, field("Query (read-only SQL, a MongoDB filter, or Cypher)", query),
    field("Name column (optional)", nameColumn), field("Schedule (optional)", schedule),
    h("button", { type: "submit" }, "Create connector"), status);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const config = {};
    for (const [key, el] of Object.entries(inputs)) {
      if (el.value !== "") config[key] = el.type === "number" ? Number(el.value) : el.value;
    }
    const body = { name: name.value.trim(), connector_type: type.value, vertical: vertical.value.trim(),
      entity_type: entityType.value.trim(), connection_config: config, query: query.value };
    if (nameColumn.value.trim()) body.name_column = nameColumn.value.trim();
    if (schedule.value.trim()) body.schedule = schedule.value.trim();
    try {
      const created = unwrap(await api("POST", "/connectors", { body }));
      for (const el of Object.values(inputs)) if (el.type === "password") el.value = "";
      status.show(`Created ${created.name}. Its credentials are stored encrypted and never shown again.`, "ok");
      onCreated(created);
    } catch (err) {
      status.show(err instanceof ApiError ? err.words : String(err), "error");
    }
  });
  return form;
}

export async function connectorsPage(main) {
  document.title = "Connectors · Kariz";
  const list = h("div", {});
  async function load() {
    const connectors = unwrap(await api("GET", "/connectors"));
    replace(list, connectors.length
      ? h("div", { class: "scroll" }, h("table", {},
        h("caption", {}, `${connectors.length} connector${connectors.length === 1 ? "" : "s"}`),
        h("thead", {}, h("tr", {}, ["Name", "Kind", "Collection", "Last pull", "Last error"].map((t) =>
          h("th", { scope: "col" }, t)))),
        h("tbody", {}, connectors.map((c) => h("tr", {},
          h("th", { scope: "row" }, link(`/connectors/${c.id}`, c.name)), h("td", {}, c.connector_type),
          h("td", {}, c.vertical), h("td", {}, statusText(c)), h("td", {}, c.last_error || "–"))))))
      : h("p", {}, "No connectors yet."));
  }
  await load();
  replace(main, h("h1", {}, "Connectors"), list,
    can("tenant:write") ? createForm(() => load()) : null);
}

export async function connectorPage(main, { id }) {
  const c = unwrap(await api("GET", `/connectors/${encodeURIComponent(id)}`));
  document.title = `${c.name} · Kariz`;
  const status = notice();
  const live = h("div", { class: "card", "aria-live": "polite" });
  let timer = null;
  onLeave(() => clearInterval(timer));

  function drawPull(p) {
    replace(live, h("h2", {}, "Pull"),
      h("p", {}, `Status: ${p.status}`, p.records_pulled ? ` · ${num(p.records_pulled)} rows pulled` : ""),
      p.status === "completed" ? h("p", {}, `${num(p.records_ingested)} ingested, ${num(p.duplicates_skipped)} duplicates skipped`,
        p.duration_seconds != null ? ` in ${Number(p.duration_seconds).toFixed(1)} s` : "") : null,
      p.error ? h("p", { class: "notice error", role: "alert" }, `${p.error_code || "error"}: ${p.error}`) : null);
  }

  async function pullNow(button) {
    button.disabled = true;
    status.show("Pull queued…");
    try {
      const queued = unwrap(await api("POST", `/connectors/${encodeURIComponent(id)}/pull`, { query: { wait: "false" } }));
      drawPull(queued);
      timer = setInterval(async () => {
        try {
          const p = unwrap(await api("GET", `/connectors/${encodeURIComponent(id)}/pulls/${queued.request_id}`));
          drawPull(p);
          if (p.status === "completed" || p.status === "failed" || p.status === "cancelled") {
            clearInterval(timer);
            button.disabled = false;
            status.show(`Pull ${p.status}.`, p.status === "completed" ? "ok" : "error");
          }
        } catch (err) {
          clearInterval(timer);
          button.disabled = false;
          status.show(err instanceof ApiError ? err.words : String(err), "error");
        }
      }, 1000);
    } catch (err) {
      button.disabled = false;
      status.show(err instanceof ApiError ? err.words : String(err), "error");
    }
  }

  const pull = h("button", { type: "button" }, "Pull now");
  pull.addEventListener("click", () => pullNow(pull));
  const remove = h("button", { type: "button", class: "danger" }, "Delete connector");
  remove.addEventListener("click", async () => {
    if (!window.confirm(`Delete ${c.name}? Records already pulled stay.`)) return;
    try {
      await api("DELETE", `/connectors/${encodeURIComponent(id)}`);
      navigate("/connectors");
    } catch (err) {
      status.show(err instanceof ApiError ? err.words : String(err), "error");
    }
  });
  replace(main,
    h("p", {}, link("/connectors", "← Connectors")),
    h("h1", {}, c.name),
    h("dl", { class: "facts" },
      h("dt", {}, "Kind"), h("dd", {}, c.connector_type),
      h("dt", {}, "Collection"), h("dd", {}, link(`/collections/${encodeURIComponent(c.vertical)}`, c.vertical)),
      h("dt", {}, "Record type"), h("dd", {}, c.entity_type),
      h("dt", {}, "Credentials"), h("dd", {}, c.connection_config === "***REDACTED***" ? "stored encrypted, never shown" : String(c.connection_config)),
      h("dt", {}, "Query"), h("dd", {}, h("code", {}, c.query)),
      h("dt", {}, "Schedule"), h("dd", {}, c.schedule || "none"),
      h("dt", {}, "Last pull"), h("dd", {}, statusText(c)),
      h("dt", {}, "Last error"), h("dd", {}, c.last_error || "none")),
    can("tenant:write") ? h("p", { class: "actions" }, pull, remove) : null,
    status, live);
}
