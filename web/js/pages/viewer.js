/**
 * The built-in viewer (#/viewer/STUDY[/SERIES]): the series of a study down the side, one
 * series at a time as a stack in the Cornerstone viewport, with window/level, pan, zoom and
 * scroll tools, a slice slider, and the usual text in the corners. Images come over WADO-URI
 * (whole files, decoded here), the list of instances from QIDO-RS; the session cookie
 * authenticates both.
 */

import { get, seg } from "../api.js";
import { describe, errorBox, h, isoDate } from "../dom.js";
import { label } from "../i18n.js";
import { loadCornerstone, wadoUri } from "../cornerstone.js";
import { Stack } from "../stack.js";
import { attachTools } from "../tools.js";
import { personName } from "./study.js";

const TOOLS = ["wl", "pan", "zoom", "scroll"];
const PAGE = 1000; // instances per QIDO-RS request
const tag = (item, key) => item[key]?.Value?.[0];

/** The images of a series in order: one per frame, instances by their number. */
async function imageIds(study, series) {
  const instances = [];
  const path = `/dicomweb/studies/${seg(study)}/series/${seg(series)}/instances`;
  for (let offset = 0; ; offset += PAGE) {
    const page = (await get(`${path}?limit=${PAGE}&offset=${offset}`, "application/dicom+json")) || [];
    instances.push(...page);
    if (page.length < PAGE) break;
  }
  const number = (item) => Number(tag(item, "00200013") ?? Number.MAX_SAFE_INTEGER);
  instances.sort((a, b) => number(a) - number(b));
  return instances.flatMap((item) => {
    const sop = tag(item, "00080018");
    const frames = Number(tag(item, "00280008") || 1);
    if (frames <= 1) return [wadoUri(study, series, sop)];
    return Array.from({ length: frames }, (_, frame) => wadoUri(study, series, sop, frame));
  });
}

function corners() {
  const corner = (where) => h("div", { class: `corner ${where}` });
  return { tl: corner("top-left"), tr: corner("top-right"), bl: corner("bottom-left"),
    br: corner("bottom-right") };
}

function toolbar(state, actions) {
  const buttons = TOOLS.map((tool) => h("button", { type: "button", class: "tool",
    "aria-pressed": String(tool === state.tool), "data-tool": tool, i18n: `viewer.tool_${tool}`,
    onclick: () => {
      state.tool = tool;
      for (const b of buttons) b.setAttribute("aria-pressed", String(b.dataset.tool === tool));
    } }));
  return h("div", { class: "viewer-toolbar", role: "toolbar" },
    h("a", { class: "button secondary", href: "#/studies", i18n: "viewer.back" }),
    h("div", { class: "tools" }, buttons),
    h("button", { type: "button", class: "secondary", onclick: actions.invert,
      i18n: "viewer.invert" }),
    h("button", { type: "button", class: "secondary", onclick: actions.reset,
      i18n: "viewer.reset" }),
    h("a", { class: "button secondary", target: "_blank", rel: "noopener", "data-action": "ohif",
      href: `/ohif/viewer?StudyInstanceUIDs=${encodeURIComponent(state.study)}`,
      i18n: "studies.ohif" }));
}

function seriesList(detail, state, choose) {
  return detail.series_list.map((series) => {
    const base = `/dicomweb/studies/${seg(state.study)}/series/${seg(series.series_uid)}`;
    const text = [`#${series.number ?? "–"}`, series.modality, series.description]
      .filter(Boolean).join(" ");
    const thumb = h("img", { src: `${base}/thumbnail`, alt: "", loading: "lazy", width: 96,
      height: 96 });
    thumb.addEventListener("error", () => thumb.classList.add("missing"));
    return h("button", { type: "button", class: "series-choice", "data-series": series.series_uid,
      onclick: () => choose(series.series_uid) }, thumb,
      h("span", {}, text),
      h("small", { class: "muted", i18n: "studies.images", args: { count: series.instances } }));
  });
}

function showRendered(detail, overlay, stack, event) {
  const { viewport } = event.detail;
  label(overlay.bl, "viewer.image", { index: stack.index + 1, count: stack.size });
  overlay.br.textContent = `W ${Math.round(viewport.voi.windowWidth)} ` +
    `L ${Math.round(viewport.voi.windowCenter)} · ${Math.round(viewport.scale * 100)}%`;
}

/** The page's elements, before anything is loaded. */
function layout(view) {
  const parts = {
    element: h("div", { class: "viewport", tabindex: 0, "data-loaded": "0",
      i18nAriaLabel: "viewer.viewport" }),
    overlay: corners(),
    status: h("div", { class: "viewer-status", role: "status" }),
    slider: h("input", { type: "range", class: "slice", min: 1, max: 1, value: 1,
      i18nAriaLabel: "viewer.slice" }),
    side: h("aside", { class: "viewer-series" }),
  };
  const stage = h("div", { class: "stage" }, parts.element, ...Object.values(parts.overlay));
  parts.main = h("section", { class: "viewer-main" }, stage, parts.slider, parts.status);
  view.append(h("div", { class: "viewer" }, parts.side, parts.main));
  return parts;
}

function showError(parts, error) {
  parts.status.replaceChildren(h("span", { class: "error" }, describe(error.error ?? error)));
}

/** The stack in the viewport, the slider and the corners following it. */
function makeStack(cornerstone, parts, detail) {
  const { element, overlay, slider, status } = parts;
  const stack = new Stack(cornerstone, element, {
    onProgress(loaded, total) {
      element.dataset.loaded = String(loaded);
      element.dataset.total = String(total);
      label(status, "viewer.loaded", { loaded, total });
    },
    onError: (error) => showError(parts, error),
  });
  element.addEventListener("cornerstoneimagerendered", (event) => {
    showRendered(detail, overlay, stack, event);
    slider.value = String(stack.index + 1);
  });
  slider.addEventListener("input", () => stack.show(Number(slider.value) - 1));
  const name = personName(detail.patient_name);
  overlay.tl.replaceChildren(
    h("div", {}, [name.alphabetic, name.ideographic].filter(Boolean).join(" ")),
    h("div", {}, detail.patient_id));
  return stack;
}

/** A function that shows one series of the study: ``choose(seriesUid)``. */
function chooser(state, parts, detail, stack) {
  return async (series) => {
    state.series = series;
    history.replaceState(null, "", `#/viewer/${seg(state.study)}/${seg(series)}`);
    for (const b of parts.side.querySelectorAll("[data-series]")) {
      b.setAttribute("aria-current", String(b.dataset.series === series));
    }
    const info = detail.series_list.find((s) => s.series_uid === series);
    parts.overlay.tr.replaceChildren(h("div", {}, isoDate(detail.study_date)),
      h("div", {}, info?.description || ""));
    try {
      const ids = await imageIds(state.study, series);
      parts.slider.max = String(Math.max(ids.length, 1));
      parts.slider.value = "1";
      await stack.open(ids);
    } catch (error) {
      showError(parts, error);
    }
  };
}

export async function render(view, context) {
  const [study, wanted] = context.args;
  const state = { study, tool: "wl", series: null };
  const parts = layout(view);
  let cornerstone;
  let detail;
  try {
    [detail, cornerstone] = await Promise.all([get(`/api/studies/${seg(study)}`), loadCornerstone()]);
  } catch (error) {
    view.replaceChildren(errorBox(error));
    return undefined;
  }
  const stack = makeStack(cornerstone, parts, detail);
  const { element } = parts;
  parts.main.prepend(toolbar(state, {
    reset: () => stack.reset(),
    invert: () => {
      const viewport = cornerstone.getViewport(element);
      if (viewport) cornerstone.setViewport(element, { ...viewport, invert: !viewport.invert });
    },
  }));
  const choose = chooser(state, parts, detail, stack);
  parts.side.append(...seriesList(detail, state, choose));
  const detach = attachTools(cornerstone, element, stack, () => state.tool);
  const resizing = new ResizeObserver(() => stack.resize());
  resizing.observe(element);
  const first = wanted || detail.series_list[0]?.series_uid;
  if (first) await choose(first);
  else parts.status.replaceChildren(h("span", { i18n: "studies.no_series" }));
  element.focus();
  return () => {
    resizing.disconnect();
    detach();
    stack.close();
  };
}
