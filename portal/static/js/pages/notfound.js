import { h, replace } from "../dom.js";
import { link } from "../app.js";

/** The 404 page: unknown paths, and ids the API does not know for this tenant. */
export function notFoundPage(main, reason) {
  document.title = "Not found · Kariz";
  replace(main,
    h("h1", {}, "404 · Not found"),
    h("p", { class: "notice error", role: "alert" }, reason || "There is no such page."),
    h("p", {}, link("/collections", "Back to your collections")));
}
