// Server-Sent Events over a POST (EventSource can only GET): read the response body as it
// arrives and hand each named event with its JSON data to `onEvent`. The CSRF header goes with it.
import { ApiError, csrfToken } from "./api.js";

/** POST `body` to `/api/v1{path}` and call `onEvent(name, data, id)` for each event until the stream
 * ends; rejects with ApiError when the API refuses before the stream opens. `signal` aborts it. */
export async function postStream(path, body, onEvent, { signal } = {}) {
  let response;
  const form = body instanceof FormData;
  const headers = { Accept: "text/event-stream", "X-CSRF-Token": csrfToken() };
  if (!form) headers["Content-Type"] = "application/json";
  try {
    response = await fetch(`/api/v1${path}`, {
      method: "POST", credentials: "same-origin", signal, headers, body: form ? body : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError(0, "NETWORK", String(err.message || err));
  }
  if (!response.ok) {
    let code = "ERROR";
    let message = response.statusText;
    try {
      const b = await response.json();
      code = b?.error?.code || code;
      message = b?.error?.message || b?.detail || message;
    } catch { /* keep the status text */ }
    throw new ApiError(response.status, code, message);
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value.replace(/\r\n/g, "\n");
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let name = "message";
      let id = null;
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) continue; // a keep-alive ping
        const sep = line.indexOf(":");
        const fieldName = sep < 0 ? line : line.slice(0, sep);
        const fieldValue = sep < 0 ? "" : line.slice(sep + 1).replace(/^ /, "");
        if (fieldName === "event") name = fieldValue;
        else if (fieldName === "data") data.push(fieldValue);
        else if (fieldName === "id") id = fieldValue;
      }
      if (!data.length) continue;
      let parsed;
      try { parsed = JSON.parse(data.join("\n")); } catch { parsed = data.join("\n"); }
      onEvent(name, parsed, id);
    }
  }
}
