/**
 * Building the page: ``h`` makes elements (``i18n`` labels them through the translation
 * table), short messages appear as toasts, questions in the one modal dialog of the page.
 */

import { ApiError } from "./api.js";
import { label, t } from "./i18n.js";

const I18N_ATTRIBUTES = {
  i18nPlaceholder: "placeholder",
  i18nTitle: "title",
  i18nAriaLabel: "aria-label",
};

function setProperty(el, key, value) {
  if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
  else if (key === "class") el.className = value;
  else if (key === "dataset") Object.assign(el.dataset, value);
  else if (key in I18N_ATTRIBUTES) {
    el.dataset[key] = value;
    el.setAttribute(I18N_ATTRIBUTES[key], t(value));
  }
  else if (value === true) el.setAttribute(key, "");
  else el.setAttribute(key, String(value));
}

/**
 * An element: ``h("button", {class: "danger", i18n: "common.delete", onclick}, ...children)``.
 * ``i18n`` (with ``args``) sets its text from the translation table; ``i18nTitle``,
 * ``i18nPlaceholder`` and ``i18nAriaLabel`` its attributes; false, null and undefined are skipped.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  const { i18n, args, ...rest } = props ?? {};
  for (const [key, value] of Object.entries(rest)) {
    if (value !== undefined && value !== null && value !== false) setProperty(el, key, value);
  }
  if (i18n) label(el, i18n, args);
  el.append(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

/** A message that goes away by itself. */
export function toast(text, kind = "info") {
  const box = h("div", { class: `toast ${kind}`, role: kind === "error" ? "alert" : "status" }, text);
  document.getElementById("toasts").append(box);
  setTimeout(() => box.remove(), kind === "error" ? 8000 : 4000);
  return box;
}

/** What went wrong, in words: the server's ``detail`` under a translated heading. */
export function describe(error) {
  if (error instanceof ApiError) {
    return t("error.status", { status: error.status, detail: error.detail || "" });
  }
  return t("error.other", { detail: error?.message || String(error) });
}

export const showError = (error) => toast(describe(error), "error");

/** A box in the page for an error (or an endpoint the server does not have yet). */
export function errorBox(error) {
  if (error instanceof ApiError && error.missing) {
    return h("div", { class: "notice unavailable", role: "status" },
      h("strong", { i18n: "error.unavailable" }), " ",
      h("span", { i18n: "error.unavailable_detail", args: { path: error.path } }));
  }
  return h("div", { class: "notice error", role: "alert" }, describe(error));
}

/**
 * Ask in the modal dialog; resolves to the form's data when confirmed, null when cancelled.
 * ``fields``: elements of a form (inputs with names), ``danger``: a red confirm button.
 */
export function ask({ title, message, fields = [], confirm = "common.ok", danger = false }) {
  const dialog = document.getElementById("dialog");
  const form = h("form", { method: "dialog", class: "dialog-form" },
    h("h2", { i18n: title }),
    message ? h("p", {}, message) : null,
    ...fields,
    h("div", { class: "buttons" },
      h("button", { value: "cancel", class: "secondary", formnovalidate: true, i18n: "common.cancel" }),
      h("button", { value: "ok", class: danger ? "danger" : "primary", i18n: confirm })));
  dialog.replaceChildren(form);
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "ok" ? new FormData(form) : null);
    }, { once: true });
    dialog.showModal();
    form.querySelector("input, select")?.focus();
  });
}

/** A labelled form field: ``field("users.username", h("input", {name: "username"}))``. */
export function field(key, control, hint) {
  return h("label", { class: "field" }, h("span", { i18n: key }), control,
    hint ? h("small", { class: "muted", i18n: hint }) : null);
}

/** ISO date from DICOM DA ("20240305" → "2024-03-05"); anything else unchanged. */
export function isoDate(value) {
  const match = /^(\d{4})(\d{2})(\d{2})$/.exec(value || "");
  return match ? `${match[1]}-${match[2]}-${match[3]}` : value || "";
}

/** A date and time of the API (ISO 8601) in the reader's local time, to the minute. */
export function localTime(value) {
  if (!value) return "";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}`;
}
