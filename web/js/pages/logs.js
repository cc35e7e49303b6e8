/**
 * The server's logs: the log files (/api/logs), and the end of one of them
 * (/api/logs/NAME?tail=&level=&q=), filtered by level and words; warnings and errors stand out;
 * the whole file to download (/api/logs/NAME/download). For administrators and operators.
 */

import { get, seg } from "../api.js";
import { errorBox, field, h } from "../dom.js";

const TAILS = [200, 1000, 5000];
const LEVELS = ["", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"];
const LEVEL_OF = /\b(DEBUG|INFO|WARNING|ERROR|CRITICAL)\b/;

const fileName = (file) => (typeof file === "string" ? file : file.name);

/** An entry of the log ({ts, level, logger, msg, ...}) as one line of text. */
function entryText(entry) {
  if (typeof entry === "string") return entry;
  const { ts = "", level = "", logger = "", msg = "", ...rest } = entry;
  const extra = Object.entries(rest).filter(([key]) => key !== "thread")
    .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`);
  return [ts, level.padEnd(7), logger, msg, ...extra].filter(Boolean).join("  ");
}

/** The lines of an answer, whether text, a list of entries, or a record holding them. */
function linesOf(answer) {
  if (typeof answer === "string") return answer.split("\n");
  const list = Array.isArray(answer) ? answer : answer?.entries ?? answer?.lines ?? [];
  return list.map(entryText);
}

function lineElement(text) {
  const level = LEVEL_OF.exec(text)?.[1];
  return h("div", { class: `line${level ? ` level-${level.toLowerCase()}` : ""}` }, text);
}

function controls(files, load) {
  const form = h("form", { class: "search", role: "search" },
    field("logs.file", h("select", { name: "file" },
      files.map((file) => h("option", { value: fileName(file) }, fileName(file))))),
    field("logs.tail", h("select", { name: "tail" },
      TAILS.map((n) => h("option", { value: n, selected: n === 1000 }, String(n))))),
    field("logs.level", h("select", { name: "level" },
      LEVELS.map((level) => h("option", level ? { value: level } : { value: "", i18n: "logs.any_level" },
        level || null)))),
    field("logs.search", h("input", { name: "q", type: "search" })),
    h("div", { class: "buttons" },
      h("button", { type: "submit", class: "primary", i18n: "logs.show" }),
      h("a", { class: "button secondary", download: "", "data-action": "download",
        i18n: "logs.download" })));
  const chosen = () => {
    const data = new FormData(form);
    form.querySelector("a[data-action=download]").href = `/api/logs/${seg(data.get("file"))}/download`;
    return data;
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load(chosen());
  });
  form.elements.file.addEventListener("change", () => load(chosen()));
  chosen();
  return form;
}

export async function render(view) {
  const output = h("div", { class: "log", role: "log" });
  view.append(h("h1", { i18n: "nav.logs" }));
  let files;
  try {
    const answer = await get("/api/logs");
    files = Array.isArray(answer) ? answer : answer.files ?? [];
  } catch (error) {
    view.append(errorBox(error));
    return;
  }
  if (!files.length) {
    view.append(h("p", { class: "muted", i18n: "logs.no_files" }));
    return;
  }
  const load = async (data) => {
    const params = new URLSearchParams({ tail: data.get("tail") });
    if (data.get("level")) params.set("level", data.get("level"));
    if (data.get("q").trim()) params.set("q", data.get("q").trim());
    output.setAttribute("aria-busy", "true");
    try {
      const lines = linesOf(await get(`/api/logs/${seg(data.get("file"))}?${params}`));
      output.replaceChildren(...lines.filter(Boolean).map(lineElement));
      output.scrollTop = output.scrollHeight;
    } catch (error) {
      output.replaceChildren(errorBox(error));
    } finally {
      output.setAttribute("aria-busy", "false");
    }
  };
  const form = controls(files, load);
  view.append(form, output);
  await load(new FormData(form));
}
