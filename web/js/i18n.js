/**
 * Translations: the tables in /console/i18n/<language>.json map keys to texts with {name}
 * placeholders. Elements carry their key in data-i18n (text), data-i18n-placeholder,
 * data-i18n-title or data-i18n-aria-label, and their arguments in data-i18n-args (JSON), so a
 * change of language rewrites the page in place without losing what is on it.
 */

export const LANGUAGES = ["zh-CN", "en"];
const STORED = "pacs.language";
const ATTRIBUTES = { i18nPlaceholder: "placeholder", i18nTitle: "title", i18nAriaLabel: "aria-label" };

let current = "en";
let table = {};

/** The language to start with: the account's, else the one chosen here before, else the browser's. */
export function preferredLanguage(accountLanguage) {
  if (LANGUAGES.includes(accountLanguage)) return accountLanguage;
  const stored = localStorage.getItem(STORED);
  if (LANGUAGES.includes(stored)) return stored;
  const browser = (navigator.languages || [navigator.language]).join(",").toLowerCase();
  return browser.startsWith("zh") ? "zh-CN" : "en";
}

export const language = () => current;

/** Load the table of ``lang``, remember the choice in this browser, translate the page. */
export async function setLanguage(lang) {
  const response = await fetch(`/console/i18n/${lang}.json`);
  if (!response.ok) throw new Error(`no translations for ${lang} (${response.status})`);
  table = await response.json();
  current = lang;
  localStorage.setItem(STORED, lang);
  document.documentElement.lang = lang;
  translate(document);
}

/** The text of ``key`` with its {placeholders} filled from ``args``. */
export function t(key, args = {}) {
  const text = table[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in args ? String(args[name]) : whole));
}

/** Label ``element`` with the text of ``key`` (kept up to date when the language changes). */
export function label(element, key, args) {
  element.dataset.i18n = key;
  if (args) element.dataset.i18nArgs = JSON.stringify(args);
  else delete element.dataset.i18nArgs;
  element.textContent = t(key, args);
  return element;
}

/** Rewrite every labelled element under ``root`` in the current language. */
export function translate(root) {
  const args = (el) => (el.dataset.i18nArgs ? JSON.parse(el.dataset.i18nArgs) : {});
  for (const el of root.querySelectorAll("[data-i18n]")) {
    el.textContent = t(el.dataset.i18n, args(el));
  }
  for (const [data, attribute] of Object.entries(ATTRIBUTES)) {
    const selector = `[data-${data.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())}]`;
    for (const el of root.querySelectorAll(selector)) {
      el.setAttribute(attribute, t(el.dataset[data], args(el)));
    }
  }
  if (root === document) document.title = t("app.title");
}
