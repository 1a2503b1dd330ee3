// Calls to /api/v1 with the session cookie. Every change sends the CSRF header; errors come back
// as ApiError with the API's own words (the shared error body: detail, error {code, message}).

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
  /** "Not found (404): record … not found" */
  get words() {
    const names = { 400: "Bad request", 401: "Not signed in", 402: "Over the plan's quota", 403: "Not allowed",
      404: "Not found", 409: "Conflict", 413: "Too large", 422: "Not accepted", 429: "Too many requests",
      503: "Unavailable" };
    const name = names[this.status] || (this.status ? `Error` : "Network error");
    return this.status ? `${name} (${this.status}): ${this.message}` : `${name}: ${this.message}`;
  }
}

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);
let onSignedOut = () => {};

/** What to do when the API says the session is over (401). */
export function whenSignedOut(handler) { onSignedOut = handler; }

/** The CSRF value of this session (a SameSite=Strict cookie the page can read). */
export function csrfToken() {
  for (const part of document.cookie.split(";")) {
    const [name, ...rest] = part.trim().split("=");
    if (name === "kariz_csrf") return decodeURIComponent(rest.join("="));
  }
  return "";
}

async function errorFrom(response) {
  let code = "ERROR";
  let message = response.statusText || "request failed";
  try {
    const body = await response.json();
    code = body?.error?.code || code;
    message = body?.error?.message || (typeof body?.detail === "string" ? body.detail : message);
  } catch { /* not JSON: keep the status text */ }
  return new ApiError(response.status, code, message);
}

function withQuery(path, query) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== "") params.set(k, String(v));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

/** Call `/api/v1{path}`; resolves to the parsed JSON (null for 204), rejects with ApiError. */
export async function api(method, path, { body, query, headers = {}, base = "/api/v1", quiet401 = false } = {}) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json", ...headers } };
  if (!SAFE.has(method)) init.headers["X-CSRF-Token"] = csrfToken();
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(withQuery(base + path, query), init);
  } catch (err) {
    throw new ApiError(0, "NETWORK", String(err.message || err));
  }
  if (!response.ok) {
    const error = await errorFrom(response);
    if (response.status === 401 && !quiet401) onSignedOut(error);
    throw error;
  }
  if (response.status === 204) return null;
  const type = response.headers.get("content-type") || "";
  return type.includes("json") ? response.json() : response.text();
}

/** The payload of an answer: `data` of a `{success, data}` body, else the body itself. */
export function unwrap(body) {
  return body && typeof body === "object" && "success" in body && "data" in body ? body.data : body;
}

/** Upload `file` as multipart field `file` with a progress callback (fraction 0..1). */
export function upload(path, file, { query, onProgress } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", withQuery(`/api/v1${path}`, query));
    xhr.withCredentials = true;
    xhr.setRequestHeader("X-CSRF-Token", csrfToken());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", (e) => { if (e.lengthComputable && onProgress) onProgress(e.loaded / e.total); });
    xhr.addEventListener("error", () => reject(new ApiError(0, "NETWORK", "the upload was interrupted")));
    xhr.addEventListener("load", () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { /* keep null */ }
      if (xhr.status >= 200 && xhr.status < 300) {
        if (onProgress) onProgress(1);
        resolve(body);
      } else {
        const error = new ApiError(xhr.status, body?.error?.code || "ERROR",
          body?.error?.message || (typeof body?.detail === "string" ? body.detail : xhr.statusText));
        if (xhr.status === 401) onSignedOut(error);
        reject(error);
      }
    });
    const form = new FormData();
    form.append("file", file);
    xhr.send(form);
  });
}
