/**
 * Pages that show what an endpoint reports, whatever its fields: remote nodes (/api/nodes),
 * settings (/api/settings), monitoring (/api/monitoring, refreshed every few seconds). Lists of
 * records become tables, records become lists of names and values, nested records sections.
 * An endpoint the server does not have (404) is said to be not available yet.
 */

import { get } from "../api.js";
import { errorBox, h, localTime } from "../dom.js";
import { label } from "../i18n.js";

const REFRESH = { monitoring: 5000 }; // milliseconds between reloads, per page
const isRecord = (value) => value !== null && typeof value === "object" && !Array.isArray(value);
const words = (key) => String(key).replaceAll("_", " ");

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

/** 1536 → "1.5 KiB". */
function size(bytes) {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit ? value.toFixed(1) : value} ${UNITS[unit]}`;
}

function scalar(value, key = "") {
  if (value === null || value === undefined || value === "") return h("span", { class: "muted" }, "—");
  if (typeof value === "number" && key.endsWith("_bytes")) {
    return h("span", { title: String(value) }, size(value));
  }
  if (typeof value === "boolean") return h("span", { i18n: value ? "common.yes" : "common.no" });
  if (typeof value === "string" && /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(value)) {
    return h("time", { datetime: value }, localTime(value));
  }
  return document.createTextNode(String(value));
}

/** A short form of a nested value inside a table cell. */
function compact(value, key) {
  if (Array.isArray(value)) return value.every((v) => !isRecord(v) && !Array.isArray(v))
    ? scalar(value.join(", ")) : h("code", {}, JSON.stringify(value));
  return isRecord(value) ? h("code", {}, JSON.stringify(value)) : scalar(value, key);
}

function table(records) {
  const columns = [...new Set(records.flatMap((record) => Object.keys(record)))];
  return h("div", { class: "table-wrap" }, h("table", { class: "info" },
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", {}, words(c))))),
    h("tbody", {}, records.map((record) => h("tr", {},
      columns.map((c) => h("td", {}, compact(record[c], c))))))));
}

/** Any JSON value as elements; ``depth`` limits the nesting of headed sections. */
export function show(value, depth = 0) {
  if (Array.isArray(value)) {
    if (!value.length) return h("p", { class: "muted", i18n: "info.empty" });
    if (value.every(isRecord)) return table(value);
    return h("ul", { class: "plain" }, value.map((item) => h("li", {}, show(item, depth + 1))));
  }
  if (!isRecord(value)) return scalar(value);
  const simple = Object.entries(value).filter(([, v]) => !isRecord(v) && !Array.isArray(v));
  const nested = Object.entries(value).filter(([, v]) => isRecord(v) || Array.isArray(v));
  const list = simple.length ? h("dl", { class: "pairs" },
    simple.flatMap(([key, v]) => [h("dt", {}, words(key)), h("dd", {}, scalar(v, key))])) : null;
  const sections = nested.map(([key, v]) => h("section", { class: depth ? "nested" : "card" },
    h(depth ? "h3" : "h2", {}, words(key)), show(v, depth + 1)));
  return h("div", { class: "record" }, list, sections);
}

/** The few figures of a monitoring snapshot worth a glance, where the snapshot has them. */
function figures(snapshot) {
  const tile = (key, value) => (value === undefined || value === null ? null
    : h("div", { class: "tile" }, h("span", { class: "muted", i18n: key }), h("strong", {}, value)));
  const disk = snapshot.disk;
  const free = disk?.total_bytes ? `${Math.round((100 * disk.free_bytes) / disk.total_bytes)} %` : null;
  const queued = snapshot.queues ? Object.values(snapshot.queues).reduce((a, b) => a + b, 0) : null;
  const rate = snapshot.ingest?.rate;
  return h("div", { class: "tiles" },
    tile("info.ingest_rate", rate === undefined ? null : `${rate.toFixed(1)} /s`),
    tile("info.stored_total", snapshot.ingest?.stored_total),
    tile("info.associations", snapshot.associations),
    tile("info.queued", queued),
    tile("info.disk_free", free));
}

function showPage(page, value) {
  const shown = show(value);
  return page === "monitoring" && isRecord(value) ? [figures(value), shown] : [shown];
}

export async function render(view, context) {
  const page = context.page;
  const body = h("section", { class: "results", "data-endpoint": `/api/${page}` });
  const stamp = h("p", { class: "muted updated" });
  view.append(h("h1", { i18n: `nav.${page}` }), stamp, body);
  let timer = null;
  const load = async () => {
    try {
      body.replaceChildren(...showPage(page, await get(`/api/${page}`)));
      label(stamp, "info.updated", { time: localTime(new Date().toISOString()) });
      return true;
    } catch (error) {
      body.replaceChildren(errorBox(error));
      return false;
    }
  };
  const ok = await load();
  if (ok && REFRESH[page]) timer = setInterval(load, REFRESH[page]);
  return () => clearInterval(timer);
}
