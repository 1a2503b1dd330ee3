// Building the page: every value becomes a text node or an attribute, never HTML, so a record
// named "<script>" shows as those characters. Nothing in the portal assigns innerHTML.

/** An element: `h("a", {href: "/x", class: "nav", onclick: fn}, "text", child, [more])`. */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "class") {
      el.className = value;
    } else if (key === "value") {
      el.value = value;
    } else if (key === "checked" || key === "disabled" || key === "selected" || key === "multiple") {
      el[key] = Boolean(value);
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

/** Append children (strings become text, arrays are flattened, null skipped). */
export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replace everything inside `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

let ids = 0;
/** A labelled form control: `field("Query", h("input", {...}))` wires label and id together. */
export function field(label, control, hint) {
  const id = control.id || `f${++ids}`;
  control.id = id;
  const hintEl = hint ? h("small", { id: `${id}-hint`, class: "hint" }, hint) : null;
  if (hintEl) control.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: "field" }, h("label", { for: id }, label), control, hintEl);
}

/** A progress bar with an accessible name and value. */
export function progress(label, value, max) {
  const bar = h("progress", { max: String(max || 1), value: String(value || 0), "aria-label": label });
  return bar;
}

/** A number shown with thousands separators. */
export function num(n) {
  return n === null || n === undefined ? "–" : Number(n).toLocaleString("en");
}

/** A date shown in the reader's locale. */
export function when(iso) {
  if (!iso) return "–";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
}

/** A status message region inside a page (errors in words, successes). */
export function notice() {
  const el = h("div", { class: "notice", role: "status", "aria-live": "polite" });
  el.show = (text, kind = "info") => {
    el.className = `notice ${kind}`;
    el.setAttribute("role", kind === "error" ? "alert" : "status");
    replace(el, text);
  };
  el.clear = () => { el.className = "notice"; el.replaceChildren(); };
  return el;
}
