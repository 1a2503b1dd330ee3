// Sign-in: the API key (in a header, never a URL) or the tenant id and asset-manager password (in
// the body) go to POST /api/v1/auth/token; the portal JWT it answers is handed straight to
// /portal/session, which keeps it in an HttpOnly cookie. Nothing secret is stored by the page.
import { api, ApiError } from "../api.js";
import { field, h, notice, replace } from "../dom.js";
import { BASE, navigate, setSession, signedOut, takeMessage } from "../app.js";

async function startSession(token) {
  const answer = await api("POST", "/session", { base: BASE, body: { token } });
  setSession(answer.data);
  navigate("/collections", { replaceState: true });
}

export function signInPage(main) {
  document.title = "Sign in · Kariz";
  const status = notice();
  const message = takeMessage();
  if (message) status.show(message, "info");
  const key = h("input", { type: "password", name: "apiKey", autocomplete: "off", required: true,
    spellcheck: "false", placeholder: "sk_live_…" });
  const tenant = h("input", { name: "tenantId", autocomplete: "username", spellcheck: "false" });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password" });
  const byKey = h("input", { type: "radio", name: "how", value: "key", checked: true });
  const byPassword = h("input", { type: "radio", name: "how", value: "password" });
  const keyBox = h("div", {}, field("API key", key, "A key of your tenant. It is exchanged for a session and not kept by this page."));
  const passwordBox = h("div", { hidden: true }, field("Tenant id", tenant), field("Asset-manager password", password));
  function choose() {
    const usePassword = byPassword.checked;
    keyBox.hidden = usePassword;
    passwordBox.hidden = !usePassword;
    key.required = !usePassword;
    tenant.required = password.required = usePassword;
    (usePassword ? tenant : key).focus();
  }
  byKey.addEventListener("change", choose);
  byPassword.addEventListener("change", choose);
  const form = h("form", { class: "card narrow", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title" }, "Sign in to Kariz"),
    status,
    h("fieldset", {}, h("legend", {}, "Sign in with"),
      h("label", { class: "check" }, byKey, " a key"), h("label", { class: "check" }, byPassword, " tenant id and password")),
    keyBox, passwordBox,
    h("button", { type: "submit" }, "Sign in"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    status.show("Signing in…");
    try {
      let issued;
      if (byPassword.checked) {
        const secret = password.value;
        password.value = "";
        issued = await api("POST", "/auth/token", { body: { tenantId: tenant.value.trim(), password: secret }, quiet401: true });
      } else {
        const raw = key.value.trim();
        key.value = "";
        issued = await api("POST", "/auth/token", { headers: { Authorization: `Bearer ${raw}` }, quiet401: true });
      }
      await startSession(issued.data.token);
    } catch (err) {
      status.show(err instanceof ApiError ? err.words : String(err), "error");
      (byPassword.checked ? password : key).focus();
    }
  });
  replace(main, form);
  key.focus();
}

/** End the session at the API (the token stops working everywhere), then drop the cookies. */
export async function signOut() {
  try {
    await api("POST", "/auth/logout", { quiet401: true });
  } catch { /* already ended, or an API without token sessions: the cookies go all the same */ }
  try {
    await api("DELETE", "/session", { base: BASE, quiet401: true });
  } catch { /* nothing to forget */ }
  signedOut("You are signed out.");
}
