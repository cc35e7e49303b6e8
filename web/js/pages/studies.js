/**
 * Images: the study list. Search by patient ID, name, study date range, modality and
 * accession number; a page at a time, sorted by study date, patient name or arrival. A study
 * opens to its series (`study.js`). What was searched, the page and the open studies are kept
 * while the console is open, so coming back from the viewer finds the list as it was left.
 */

import { get } from "../api.js";
import { errorBox, field, h } from "../dom.js";
import { studyRows } from "./study.js";

const MODALITIES = ["CT", "MR", "CR", "DX", "US", "MG", "NM", "PT", "XA", "RF", "OT", "SC"];
const PAGE_SIZES = [10, 25, 50, 100];
const SORTS = ["-study_date", "study_date", "patient_name", "-patient_name", "-received", "received"];
const TEXT_FILTERS = ["patient_id", "patient_name", "accession_number"];
const PREFIX_FILTERS = new Set(["patient_id", "accession_number"]); // a prefix finds them

const state = {
  filters: { patient_id: "", patient_name: "", accession_number: "", date_from: "", date_to: "",
    modality: "" },
  offset: 0,
  limit: 25,
  sort: "-study_date",
  open: new Set(), // study UIDs shown with their series
};

function query() {
  const params = new URLSearchParams();
  for (const name of TEXT_FILTERS) {
    const value = state.filters[name].trim();
    if (!value) continue;
    const prefix = PREFIX_FILTERS.has(name) && !/[*?]/.test(value);
    params.set(name, prefix ? `${value}*` : value);
  }
  const from = state.filters.date_from.replaceAll("-", "");
  const to = state.filters.date_to.replaceAll("-", "");
  if (from || to) params.set("study_date", from === to ? from : `${from}-${to}`);
  if (state.filters.modality) params.set("modality", state.filters.modality);
  params.set("offset", state.offset);
  params.set("limit", state.limit);
  params.set("sort", state.sort);
  return params;
}

function searchForm(reload) {
  const input = (name, key, type = "search") => field(key,
    h("input", { name, type, value: state.filters[name], autocomplete: "off" }));
  const modality = h("select", { name: "modality" },
    h("option", { value: "", i18n: "studies.any_modality" }),
    MODALITIES.map((m) => h("option", { value: m, selected: m === state.filters.modality }, m)));
  const form = h("form", { class: "search", role: "search" },
    input("patient_id", "studies.patient_id"),
    input("patient_name", "studies.patient_name"),
    input("date_from", "studies.date_from", "date"),
    input("date_to", "studies.date_to", "date"),
    field("studies.modality", modality),
    input("accession_number", "studies.accession"),
    h("div", { class: "buttons" },
      h("button", { type: "submit", class: "primary", i18n: "studies.search" }),
      h("button", { type: "reset", class: "secondary", i18n: "studies.clear" })));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    for (const name of Object.keys(state.filters)) state.filters[name] = form.elements[name].value;
    state.offset = 0;
    reload();
  });
  form.addEventListener("reset", () => {
    for (const name of Object.keys(state.filters)) state.filters[name] = "";
    state.offset = 0;
    setTimeout(reload); // after the form has cleared its fields
  });
  return form;
}

function sortHeader(key, sortKey, reload, extra = "") {
  const active = state.sort.replace(/^-/, "") === sortKey;
  const arrow = active ? (state.sort.startsWith("-") ? " ▼" : " ▲") : "";
  const button = h("button", { type: "button", class: "sort", onclick: () => {
    state.sort = active && !state.sort.startsWith("-") ? `-${sortKey}` : sortKey;
    state.offset = 0;
    reload();
  } }, h("span", { i18n: key }), arrow);
  const order = active ? (state.sort.startsWith("-") ? "descending" : "ascending") : "none";
  return h("th", { class: extra, "aria-sort": order }, button);
}

function table(page, context, reload) {
  const head = h("tr", {},
    h("th", { class: "toggle" }),
    sortHeader("studies.patient_name", "patient_name", reload),
    h("th", { i18n: "studies.patient_id" }),
    h("th", { class: "wide-only", i18n: "studies.birth_sex" }),
    sortHeader("studies.study_date", "study_date", reload),
    h("th", { i18n: "studies.modality" }),
    h("th", { class: "wide-only", i18n: "studies.description" }),
    h("th", { class: "wide-only", i18n: "studies.accession" }),
    h("th", { class: "number", i18n: "studies.series_images" }),
    h("th", { class: "quick" }, h("span", { class: "sr-only", i18n: "studies.actions" })));
  const body = h("tbody", {}, page.items.map((study) => studyRows(study, state.open, context,
    reload)));
  return h("div", { class: "table-wrap" },
    h("table", { class: "studies" }, h("thead", {}, head), body));
}

function pager(page, reload) {
  const last = Math.min(page.offset + page.items.length, page.total);
  const go = (offset) => () => { state.offset = Math.max(0, offset); reload(); };
  const size = h("select", { i18nAriaLabel: "studies.page_size" },
    PAGE_SIZES.map((n) => h("option", { value: n, selected: n === state.limit }, String(n))));
  size.addEventListener("change", () => { state.limit = Number(size.value); state.offset = 0; reload(); });
  const sort = h("select", { i18nAriaLabel: "studies.sort" },
    SORTS.map((s) => h("option", { value: s, selected: s === state.sort, i18n: `sort.${s}` })));
  sort.addEventListener("change", () => { state.sort = sort.value; state.offset = 0; reload(); });
  return h("div", { class: "pager" },
    h("span", { class: "count", i18n: page.total ? "studies.range" : "studies.none",
      args: { first: page.total ? page.offset + 1 : 0, last, total: page.total } }),
    sort, size,
    h("button", { type: "button", class: "secondary", disabled: page.offset === 0,
      onclick: go(page.offset - state.limit), i18n: "studies.previous" }),
    h("button", { type: "button", class: "secondary", disabled: last >= page.total,
      onclick: go(page.offset + state.limit), i18n: "studies.next" }));
}

export async function render(view, context) {
  const results = h("section", { class: "results", "aria-busy": "true" });
  let loads = 0;
  const reload = async () => {
    const mine = ++loads;
    results.setAttribute("aria-busy", "true");
    try {
      const page = await get(`/api/studies?${query()}`);
      if (mine !== loads) return;
      results.replaceChildren(pager(page, reload), table(page, context, reload));
    } catch (error) {
      if (mine === loads) results.replaceChildren(errorBox(error));
    } finally {
      if (mine === loads) results.setAttribute("aria-busy", "false");
    }
  };
  view.append(h("h1", { i18n: "studies.title" }), searchForm(reload), results);
  await reload();
  return () => { loads += 1; }; // a late answer is not shown on another page
}
