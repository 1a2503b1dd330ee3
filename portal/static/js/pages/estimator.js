// Estimator: drop photos; each image's items appear as it is analysed (POST /estimator/analyze over
// SSE), then the totals and the packing plan; past estimates below.
import { api, ApiError, unwrap } from "../api.js";
import { h, notice, num, replace, when } from "../dom.js";
import { can, onLeave, session } from "../app.js";
import { postStream } from "../sse.js";

const cm = (d) => `${Math.round(d.width)} × ${Math.round(d.depth)} × ${Math.round(d.height)} cm`;

function summaryView(s) {
  const t = s.totals;
  const p = s.packing;
  return h("section", { class: "card", "aria-labelledby": "totals-title" },
    h("h2", { id: "totals-title" }, "Totals and packing plan"),
    h("dl", { class: "facts" },
      h("dt", {}, "Items"), h("dd", {}, num(t.items)),
      h("dt", {}, "Volume"), h("dd", {}, `${t.volumeM3.toFixed(2)} m³ (${t.volumeFt3.toFixed(0)} ft³)`),
      h("dt", {}, "Weight"), h("dd", {}, `${t.weightKg.toFixed(0)} kg`),
      h("dt", {}, "Boxes"), h("dd", {}, `${p.boxes.small} small, ${p.boxes.medium} medium, ${p.boxes.large} large, ${p.boxes.wardrobe} wardrobe`),
      h("dt", {}, "Blankets"), h("dd", {}, num(p.blankets)),
      h("dt", {}, "Vehicle"), h("dd", {}, `${p.recommended.vehicle}, ${p.recommended.loadPercent}% full, ${p.recommended.trips} trip${p.recommended.trips === 1 ? "" : "s"}`)),
    s.assumptions?.length ? h("details", {}, h("summary", {}, "Assumptions"), h("ul", {}, s.assumptions.map((a) => h("li", {}, a)))) : null);
}

export async function estimatorPage(main) {
  document.title = "Estimator · Kariz";
  const status = notice();
  const input = h("input", { type: "file", id: "photos", multiple: true, accept: "image/jpeg,image/png,image/webp" });
  const zone = h("div", { class: "dropzone card" },
    h("label", { for: "photos" }, "Photos of the rooms (JPEG, PNG or WebP, up to 10)"), input,
    h("p", { class: "hint" }, "Or drop them here."));
  const go = h("button", { type: "button", disabled: true }, "Estimate");
  const images = h("ol", { class: "images", "aria-live": "polite", "aria-label": "Images analysed" });
  const items = h("tbody", {});
  const itemsTable = h("div", { class: "scroll", hidden: true }, h("table", {}, h("caption", {}, "Items"),
    h("thead", {}, h("tr", {}, ["Item", "Qty", "Size", "Volume", "Weight", "Packing"].map((t) => h("th", { scope: "col" }, t)))),
    items));
  const totals = h("div", {});
  const past = h("div", {});
  let files = [];
  let aborter = null;
  onLeave(() => aborter?.abort());

  function choose(list) {
    files = [...list].slice(0, 10);
    go.disabled = !files.length;
    status.show(`${files.length} photo${files.length === 1 ? "" : "s"} chosen.`);
  }
  input.addEventListener("change", () => choose(input.files));
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => { e.preventDefault(); zone.classList.remove("over"); choose(e.dataTransfer.files); });

  async function loadPast() {
    const page = unwrap(await api("GET", "/estimator/estimates", { query: { limit: 10 } }));
    replace(past, page.estimates.length ? [h("h2", {}, "Earlier estimates"), h("ul", {}, page.estimates.map((e) =>
      h("li", {}, `${when(e.createdAt)}: ${e.imageCount} photo${e.imageCount === 1 ? "" : "s"}, ${num(e.totals.items)} items, `,
        `${e.totals.volumeM3.toFixed(2)} m³, ${e.recommended.vehicle}`)))] : null);
  }

  go.addEventListener("click", async () => {
    go.disabled = true;
    images.replaceChildren();
    items.replaceChildren();
    totals.replaceChildren();
    itemsTable.hidden = true;
    status.show("Analysing…");
    const form = new FormData();
    form.append("tenantId", session().tenantId);
    for (const f of files) form.append("images", f, f.name);
    aborter = new AbortController();
    try {
      await postStream("/estimator/analyze", form, (event, data) => {
        if (event === "start") {
          status.show(`Analysing ${data.images} photo${data.images === 1 ? "" : "s"}…`);
        } else if (event === "image") {
          const labels = data.items.map((i) => i.label);
          images.append(h("li", {}, `Photo ${data.index + 1} (${data.width} × ${data.height}): `,
            labels.length ? labels.join(", ") : "nothing recognised"));
        } else if (event === "item") {
          itemsTable.hidden = false;
          items.append(h("tr", {}, h("th", { scope: "row" }, data.label, data.fragile ? " (fragile)" : ""),
            h("td", { class: "n" }, String(data.quantity)), h("td", {}, cm(data.dimensionsCm)),
            h("td", { class: "n" }, `${data.volumeM3.toFixed(2)} m³`), h("td", { class: "n" }, `${data.weightKg.toFixed(0)} kg`),
            h("td", {}, data.packing.method, data.packing.box ? ` (${data.packing.box} box)` : "",
              data.packing.blankets ? `, ${data.packing.blankets} blanket${data.packing.blankets === 1 ? "" : "s"}` : "")));
        } else if (event === "summary") {
          replace(totals, summaryView(data));
        } else if (event === "error") {
          status.show(`${data.code}: ${data.message}`, "error");
        } else if (event === "done") {
          if (!status.classList.contains("error")) status.show("Estimate ready.", "ok");
        }
      }, { signal: aborter.signal });
      await loadPast();
    } catch (err) {
      if (err.name !== "AbortError") status.show(err instanceof ApiError ? err.words : String(err), "error");
    } finally {
      go.disabled = !files.length;
    }
  });

  await loadPast();
  replace(main, h("h1", {}, "Moving estimate"),
    can("tenant:write") ? [zone, go] : h("p", {}, "Your role can see estimates but not make them."),
    status, images, itemsTable, totals, past);
}
