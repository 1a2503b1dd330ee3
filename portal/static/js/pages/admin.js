// API keys (the secret shown once, with a copy button; revoke), accounts and roles, usage.
import { api, ApiError, unwrap } from "../api.js";
import { field, h, notice, num, replace, when } from "../dom.js";
import { session } from "../app.js";

const SCOPES = ["tenant:read", "tenant:write", "chat:read", "chat:write", "chat:delete", "admin"];

async function copy(text, input, status) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    input.select(); // no clipboard permission (plain http): leave it selected for Ctrl+C
    document.execCommand?.("copy");
  }
  status.show("Copied.", "ok");
}

export async function keysPage(main) {
  document.title = "API keys · Kariz";
  const tenant = session().tenantId;
  const base = `/tenants/${tenant}/api-keys`;
  const status = notice();
  const list = h("div", {});
  const secretBox = h("div", { "aria-live": "polite" });

  async function load() {
    const keys = unwrap(await api("GET", base));
    replace(list, h("div", { class: "scroll" }, h("table", {},
      h("caption", {}, `${keys.length} key${keys.length === 1 ? "" : "s"}`),
      h("thead", {}, h("tr", {}, ["Name", "Starts with", "Scopes", "Last used", "Expires", ""].map((t) =>
        h("th", { scope: "col" }, t)))),
      h("tbody", {}, keys.map((k) => {
        const revoke = h("button", { type: "button", class: "danger", "aria-label": `Revoke ${k.name}` }, "Revoke");
        revoke.addEventListener("click", async () => {
          if (!window.confirm(`Revoke ${k.name}? It stops working at once.`)) return;
          try {
            await api("DELETE", `${base}/${k.id}`);
            status.show(`Revoked ${k.name}.`, "ok");
            await load();
          } catch (err) {
            status.show(err instanceof ApiError ? err.words : String(err), "error");
          }
        });
        return h("tr", { class: k.revoked ? "revoked" : "" },
          h("th", { scope: "row" }, k.name), h("td", {}, h("code", {}, `${k.prefix}…`)),
          h("td", {}, k.scopes.join(", ")), h("td", {}, when(k.last_used_at)), h("td", {}, when(k.expires_at)),
          h("td", {}, k.revoked ? "revoked" : revoke));
      })))));
  }

  const name = h("input", { name: "name", required: true });
  const boxes = SCOPES.map((s) => h("input", { type: "checkbox", name: "scope", value: s,
    checked: s === "tenant:read" }));
  const expires = h("input", { type: "number", min: "1", name: "expires_days" });
  const form = h("form", { class: "card", "aria-labelledby": "new-key" }, h("h2", { id: "new-key" }, "New key"),
    field("Name", name),
    h("fieldset", {}, h("legend", {}, "Scopes"), boxes.map((b) => h("label", { class: "check" }, b, ` ${b.value}`))),
    field("Expires after (days, optional)", expires),
    h("button", { type: "submit" }, "Create key"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = { name: name.value.trim(), scopes: boxes.filter((b) => b.checked).map((b) => b.value) };
    if (expires.value) body.expires_at = new Date(Date.now() + Number(expires.value) * 86400000).toISOString();
    try {
      const created = unwrap(await api("POST", base, { body }));
      const secret = h("input", { type: "text", readonly: true, value: created.apiKey, class: "secret",
        "aria-label": "The new key's secret" });
      const copyButton = h("button", { type: "button" }, "Copy");
      copyButton.addEventListener("click", () => copy(created.apiKey, secret, status));
      replace(secretBox, h("div", { class: "card once", role: "region", "aria-label": "New key" },
        h("p", {}, h("strong", {}, `Key ${created.name} created. `), "Copy its secret now: it is shown only this once."),
        h("div", { class: "row" }, secret, copyButton)));
      name.value = "";
      await load();
      secret.focus();
      secret.select();
    } catch (err) {
      status.show(err instanceof ApiError ? err.words : String(err), "error");
    }
  });
  await load();
  replace(main, h("h1", {}, "API keys"), status, secretBox, list, form);
}

const ROLES = [["viewer", "viewer: reads"], ["member", "member: reads and writes"], ["admin", "admin: everything"]];

export async function accountsPage(main) {
  document.title = "Accounts · Kariz";
  const tenant = session().tenantId;
  const base = `/tenants/${tenant}/accounts`;
  const status = notice();
  const tbody = h("tbody", {});

  async function change(a, body, what) {
    try {
      const updated = unwrap(await api("PATCH", `${base}/${a.id}`, { body }));
      status.show(`${updated.email}: ${what}.`, "ok");
      await load();
    } catch (err) {
      status.show(err instanceof ApiError ? err.words : String(err), "error");
      await load();
    }
  }

  function row(a) {
    const role = h("select", { "aria-label": `Role of ${a.email}` },
      ROLES.map(([v, label]) => h("option", { value: v, selected: v === a.role }, label)));
    role.addEventListener("change", () => change(a, { role: role.value }, `role is now ${role.value}`));
    const toggle = h("button", { type: "button", class: a.disabled ? "secondary" : "danger",
      "aria-label": `${a.disabled ? "Enable" : "Disable"} ${a.email}` }, a.disabled ? "Enable" : "Disable");
    toggle.addEventListener("click", () => change(a, { disabled: !a.disabled }, a.disabled ? "enabled" : "disabled"));
    return h("tr", { class: a.disabled ? "revoked" : "" }, h("th", { scope: "row" }, a.email),
      h("td", {}, a.name || "–"), h("td", {}, role), h("td", {}, when(a.createdAt)), h("td", {}, toggle));
  }

  async function load() {
    const accounts = unwrap(await api("GET", base, { query: { limit: 100 } }));
    replace(tbody, accounts.map(row));
  }

  const email = h("input", { type: "email", name: "email", required: true, autocomplete: "off" });
  const name = h("input", { name: "name" });
  const role = h("select", { name: "role" }, ROLES.map(([v, label]) => h("option", { value: v, selected: v === "member" }, label)));
  const form = h("form", { class: "card", "aria-labelledby": "new-account" }, h("h2", { id: "new-account" }, "New account"),
    field("Email", email), field("Name (optional)", name), field("Role", role),
    h("button", { type: "submit" }, "Create account"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = { email: email.value.trim(), role: role.value };
    if (name.value.trim()) body.name = name.value.trim();
    try {
      const created = unwrap(await api("POST", base, { body }));
      status.show(`Created ${created.email} (${created.role}).`, "ok");
      email.value = "";
      name.value = "";
      await load();
    } catch (err) {
      status.show(err instanceof ApiError ? err.words : String(err), "error");
    }
  });
  const newPassword = h("input", { type: "password", name: "newPassword", autocomplete: "new-password", required: true });
  const confirmPassword = h("input", { type: "password", name: "confirmPassword", autocomplete: "new-password", required: true });
  const passwordForm = h("form", { class: "card", "aria-labelledby": "asset-password" },
    h("h2", { id: "asset-password" }, "Asset-manager password"),
    h("p", { class: "hint" }, "Signs the tenant in with its id and this password (files and store; no keys). Changing it ends those sessions."),
    field("New password", newPassword), field("Confirm the new password", confirmPassword),
    h("button", { type: "submit" }, "Set password"));
  passwordForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = { newPassword: newPassword.value, confirmPassword: confirmPassword.value };
    newPassword.value = "";
    confirmPassword.value = "";
    try {
      await api("PUT", `/tenants/${tenant}/asset-auth/password`, { body });
      status.show("The asset-manager password is set.", "ok");
    } catch (err) {
      status.show(err instanceof ApiError ? err.words : String(err), "error");
    }
  });
  await load();
  replace(main, h("h1", {}, "Accounts and roles"), status,
    h("div", { class: "scroll" }, h("table", {}, h("caption", {}, "Accounts"),
      h("thead", {}, h("tr", {}, ["Email", "Name", "Role", "Created", ""].map((t) => h("th", { scope: "col" }, t)))),
      tbody)),
    form, passwordForm);
}

function meter(label, m, extra) {
  const pct = Math.min(100, Number(m.percentUsed || 0));
  const warn = pct >= 80;
  return h("div", { class: `meter${warn ? " warn" : ""}` },
    h("div", { class: "meter-head" }, h("strong", {}, label),
      h("span", {}, `${num(m.used)} of ${num(m.limit)} (${pct.toFixed(1)}%)`)),
    h("meter", { min: "0", max: "100", low: "80", high: "95", optimum: "0", value: String(pct),
      "aria-label": `${label}: ${pct.toFixed(1)} percent used` }),
    warn ? h("p", { class: "notice warn", role: "alert" }, `${label} is at ${pct.toFixed(0)}% of the plan.`) : null,
    extra ? h("small", { class: "hint" }, extra) : null);
}

export async function usagePage(main) {
  document.title = "Usage · Kariz";
  const u = unwrap(await api("GET", "/usage"));
  replace(main, h("h1", {}, "Usage"),
    h("p", { class: "meta" }, `This period: ${when(u.period.start)} – ${when(u.period.end)}`),
    h("section", { class: "card" },
      meter("Requests this period", u.requests),
      meter("Tokens this period", u.tokens),
      meter("Requests today", u.daily, `resets in ${num(u.daily.resetsInSeconds)} s`),
      meter("Requests this minute", u.rateLimit, `resets in ${num(u.rateLimit.resetsInSeconds)} s`)));
}
