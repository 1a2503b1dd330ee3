// The portal's shell: the session, the navigation, and a router over /portal/... paths.
import { api, ApiError, whenSignedOut } from "./api.js";
import { h, replace } from "./dom.js";
import { signInPage, signOut } from "./pages/signin.js";
import { collectionsPage, searchPage, recordPage, uploadPage, replacePage } from "./pages/collections.js";
import { connectorsPage, connectorPage } from "./pages/connectors.js";
import { exportsPage } from "./pages/exports.js";
import { keysPage, accountsPage, usagePage } from "./pages/admin.js";
import { notFoundPage } from "./pages/notfound.js";
import { estimatorPage } from "./pages/estimator.js";
import { documentsPage } from "./pages/documents.js";
import { chatPage } from "./pages/chat.js";

export const BASE = "/portal";
const main = document.getElementById("main");
const top = document.getElementById("top");

const state = { session: null, leave: [], expiryTimer: null, message: null };

// path pattern -> page; `:name` segments become params
const ROUTES = [
  ["/sign-in", signInPage, { public: true }],
  ["/", collectionsPage],
  ["/collections", collectionsPage],
  ["/collections/:name", searchPage],
  ["/collections/:name/records/:id", recordPage],
  ["/collections/:name/replace", replacePage, { scope: "admin" }],
  ["/upload", uploadPage, { scope: "tenant:write" }],
  ["/connectors", connectorsPage],
  ["/connectors/:id", connectorPage],
  ["/exports", exportsPage, { scope: "admin" }],
  ["/keys", keysPage, { scope: "admin" }],
  ["/accounts", accountsPage, { scope: "admin" }],
  ["/usage", usagePage],
  ["/estimator", estimatorPage],
  ["/documents", documentsPage],
  ["/chat", chatPage, { scope: "chat:read" }],
  ["/chat/:id", chatPage, { scope: "chat:read" }],
];

// navigation entries: label, path, the scope that makes them useful
const NAV = [
  ["Collections", "/collections", "tenant:read"],
  ["Upload", "/upload", "tenant:write"],
  ["Connectors", "/connectors", "tenant:read"],
  ["Exports", "/exports", "admin"],
  ["API keys", "/keys", "admin"],
  ["Accounts", "/accounts", "admin"],
  ["Documents", "/documents", "tenant:read"],
  ["Chat", "/chat", "chat:read"],
  ["Estimator", "/estimator", "tenant:read"],
  ["Usage", "/usage", "tenant:read"],
];

/** Whether the signed-in session may do `scope` (the API decided: /portal/session `allows`). */
export function can(scope) {
  return Boolean(state.session && state.session.allows.includes(scope));
}

export function session() { return state.session; }

/** Go to a portal path (`/collections/x`) without reloading. */
export function navigate(path, { replaceState = false } = {}) {
  const url = BASE + path;
  if (replaceState) history.replaceState({}, "", url); else history.pushState({}, "", url);
  render();
}

/** A link to a portal path that routes without reloading. */
export function link(path, text, props = {}) {
  return h("a", {
    href: BASE + path, ...props,
    onclick: (e) => {
      if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
      e.preventDefault();
      navigate(path);
    },
  }, text);
}

/** Run `fn` when the reader leaves the current page (stop polling, close streams). */
export function onLeave(fn) { state.leave.push(fn); }

function match(path) {
  const parts = path.split("/").filter(Boolean);
  for (const [pattern, page, opts] of ROUTES) {
    const want = pattern.split("/").filter(Boolean);
    if (want.length !== parts.length) continue;
    const params = {};
    let ok = true;
    want.forEach((seg, i) => {
      if (seg.startsWith(":")) params[seg.slice(1)] = decodeURIComponent(parts[i]);
      else if (seg !== parts[i]) ok = false;
    });
    if (ok) return { page, params, opts: opts || {} };
  }
  return null;
}

function renderNav() {
  if (!state.session) {
    replace(top, h("span", { class: "brand" }, "Kariz"));
    return;
  }
  const here = location.pathname.slice(BASE.length) || "/";
  const items = NAV.filter(([, , scope]) => can(scope)).map(([label, path]) =>
    h("li", {}, link(path, label, here.startsWith(path) ? { "aria-current": "page" } : {})));
  replace(top,
    h("span", { class: "brand" }, "Kariz"),
    h("nav", { "aria-label": "Portal" }, h("ul", {}, items)),
    h("span", { class: "who" }, `tenant ${state.session.tenantId.slice(0, 8)}…`),
    h("button", { type: "button", class: "secondary", onclick: () => signOut() }, "Sign out"));
}

/** Load the session from the cookie (null when signed out). */
export async function loadSession() {
  try {
    const answer = await api("GET", "/session", { base: BASE, quiet401: true });
    setSession(answer.data);
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) throw err;
    setSession(null);
  }
  return state.session;
}

/** Keep `data` as the current session and schedule the sign-in page for when it expires. */
export function setSession(data) {
  state.session = data;
  clearTimeout(state.expiryTimer);
  if (data) {
    const ms = new Date(data.expiresAt).getTime() - Date.now();
    state.expiryTimer = setTimeout(() => signedOut("Your session expired: sign in again."), Math.max(ms, 0));
  }
}

/** Show the sign-in page with a reason. */
export function signedOut(message) {
  setSession(null);
  state.message = message;
  navigate("/sign-in", { replaceState: true });
}

/** A message for the next page (e.g. why the reader was signed out), read once. */
export function takeMessage() {
  const m = state.message;
  state.message = null;
  return m;
}

export async function render() {
  for (const fn of state.leave.splice(0)) {
    try { fn(); } catch { /* a page's clean-up never blocks the next page */ }
  }
  const path = location.pathname.slice(BASE.length) || "/";
  const found = match(path);
  if (!found?.opts.public && !state.session) {
    await loadSession();
    if (!state.session) {
      if (path !== "/sign-in") state.message = state.message || "Sign in to use the portal.";
      history.replaceState({}, "", `${BASE}/sign-in`);
      renderNav();
      return signInPage(main);
    }
  }
  renderNav();
  main.replaceChildren();
  if (!found) return notFoundPage(main);
  if (found.opts.scope && !can(found.opts.scope)) {
    return notFoundPage(main, "This page needs a role your session does not have.");
  }
  try {
    await found.page(main, found.params);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return notFoundPage(main, err.message);
    if (err instanceof ApiError && err.status === 401) return undefined;
    replace(main, h("h1", {}, "Something went wrong"),
      h("p", { role: "alert", class: "notice error" }, err instanceof ApiError ? err.words : String(err)));
  }
  // a page that put the focus on its first control keeps it; otherwise the new page's content gets it
  if (!main.contains(document.activeElement) || document.activeElement === document.body) main.focus({ preventScroll: true });
  return undefined;
}

whenSignedOut(() => signedOut("Your session has ended: sign in again."));
window.addEventListener("popstate", () => render());
render();
