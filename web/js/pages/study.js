/**
 * One study of the list: its row with the actions on the whole study (view here, in OHIF or
 * in Weasis, download, delete) and, once opened, its series with thumbnails and their own
 * actions. Deleting asks first; the list is reloaded after it.
 */

import { del, get, seg } from "../api.js";
import { ask, errorBox, h, isoDate, showError, toast } from "../dom.js";
import { t } from "../i18n.js";

export const COLUMNS = 10; // of the study table: the detail row spans them all

/** "Zhang^San=张^三" → its alphabetic and ideographic forms, each readable. */
export function personName(value) {
  const [alphabetic = "", ideographic = ""] = (value || "").split("=");
  const words = (group, joiner) => group.split("^").filter(Boolean).join(joiner);
  return { alphabetic: words(alphabetic, " "), ideographic: words(ideographic, "") };
}

function nameCell(value) {
  const name = personName(value);
  return h("td", { class: "name" },
    name.alphabetic ? h("span", {}, name.alphabetic) : null,
    name.ideographic ? h("span", { class: "ideographic", lang: "zh-CN" }, name.ideographic) : null);
}

const ohifUrl = (study) => `/ohif/viewer?StudyInstanceUIDs=${encodeURIComponent(study)}`;

async function openWeasis(study) {
  try {
    const { url } = await get(`/api/studies/${seg(study)}/weasis`);
    toast(t("studies.weasis_started"));
    window.location.href = url;
  } catch (error) {
    showError(error);
  }
}

/** Delete a study or a series, once confirmed; then ``after``. */
async function remove(level, uid, what, after) {
  const confirmed = await ask({
    title: `delete.title_${level}`,
    message: t(`delete.confirm_${level}`, { what }),
    confirm: "common.delete",
    danger: true,
  });
  if (!confirmed) return;
  try {
    const done = await del(`/api/${level === "study" ? "studies" : "series"}/${seg(uid)}`);
    toast(t(`delete.done_${level}`, { instances: done.instances }));
  } catch (error) {
    showError(error);
  }
  await after();
}

function studyActions(study, context, reload) {
  const uid = study.study_uid;
  const label = [personName(study.patient_name).alphabetic, isoDate(study.study_date)]
    .filter(Boolean).join(", ");
  return h("div", { class: "actions" },
    h("a", { class: "button", href: `#/viewer/${seg(uid)}`, i18n: "studies.view" }),
    h("a", { class: "button", href: ohifUrl(uid), target: "_blank", rel: "noopener",
      "data-action": "ohif", i18n: "studies.ohif" }),
    h("button", { type: "button", class: "secondary", onclick: () => openWeasis(uid),
      i18n: "studies.weasis" }),
    h("a", { class: "button", href: `/api/studies/${seg(uid)}/archive`, download: "",
      "data-action": "download", i18n: "studies.download" }),
    context.mayWrite ? h("button", { type: "button", class: "danger", "data-action": "delete",
      onclick: () => remove("study", uid, label || uid, reload), i18n: "common.delete" }) : null);
}

function seriesCard(study, series, context, reload) {
  const base = `/dicomweb/studies/${seg(study.study_uid)}/series/${seg(series.series_uid)}`;
  const what = [`#${series.number ?? "–"}`, series.modality, series.description]
    .filter(Boolean).join(" ");
  const thumb = h("img", { class: "thumbnail", src: `${base}/thumbnail`, alt: what,
    loading: "lazy", width: 128, height: 128 });
  thumb.addEventListener("error", () => thumb.classList.add("missing"));
  const view = `#/viewer/${seg(study.study_uid)}/${seg(series.series_uid)}`;
  return h("article", { class: "series", "data-series": series.series_uid },
    h("a", { href: view, class: "thumb-link" }, thumb),
    h("div", { class: "series-text" },
      h("strong", {}, what),
      h("span", { class: "muted", i18n: "studies.images", args: { count: series.instances } }),
      series.body_part ? h("span", { class: "muted" }, series.body_part) : null),
    h("div", { class: "actions" },
      h("a", { class: "button", href: view, i18n: "studies.view" }),
      h("a", { class: "button", href: `/api/series/${seg(series.series_uid)}/archive`,
        download: "", "data-action": "download", i18n: "studies.download" }),
      context.mayWrite ? h("button", { type: "button", class: "danger", "data-action": "delete",
        onclick: () => remove("series", series.series_uid, what, reload),
        i18n: "common.delete" }) : null));
}

async function fillSeries(cell, study, context, reload) {
  const actions = h("div", { class: "study-bar" },
    h("span", { class: "muted", i18n: "studies.this_study" }), studyActions(study, context, reload));
  cell.replaceChildren(actions, h("p", { class: "muted", i18n: "common.loading" }));
  try {
    const detail = await get(`/api/studies/${seg(study.study_uid)}`);
    const cards = detail.series_list.map((s) => seriesCard(study, s, context, reload));
    cell.replaceChildren(actions, cards.length ? h("div", { class: "series-grid" }, cards)
      : h("p", { class: "muted", i18n: "studies.no_series" }));
  } catch (error) {
    cell.replaceChildren(actions, errorBox(error));
  }
}

/** The row of ``study`` and the row below it that shows its series when open. */
export function studyRows(study, open, context, reload) {
  const uid = study.study_uid;
  const cell = h("td", { colspan: COLUMNS });
  const detail = h("tr", { class: "detail", hidden: !open.has(uid) }, cell);
  const toggle = h("button", { type: "button", class: "icon toggle", "aria-expanded": "false",
    i18nAriaLabel: "studies.show_series" }, "▸");
  const show = (opened) => {
    detail.hidden = !opened;
    toggle.setAttribute("aria-expanded", String(opened));
    toggle.textContent = opened ? "▾" : "▸";
    if (opened) fillSeries(cell, study, context, reload);
  };
  toggle.addEventListener("click", () => {
    const opened = !open.has(uid);
    if (opened) open.add(uid);
    else open.delete(uid);
    show(opened);
  });
  const sex = [isoDate(study.patient_birth_date), study.patient_sex].filter(Boolean).join(" · ");
  const row = h("tr", { class: "study", "data-study": uid },
    h("td", { class: "toggle" }, toggle),
    nameCell(study.patient_name),
    h("td", {}, study.patient_id),
    h("td", { class: "wide-only" }, sex),
    h("td", { class: "date" }, isoDate(study.study_date)),
    h("td", {}, study.modalities.join(", ")),
    h("td", { class: "wide-only" }, study.description),
    h("td", { class: "wide-only" }, study.accession_number),
    h("td", { class: "number" }, `${study.series} / ${study.instances}`),
    h("td", { class: "quick" },
      h("a", { class: "button small", href: `#/viewer/${seg(uid)}`, i18n: "studies.view" }),
      h("a", { class: "button small", href: ohifUrl(uid), target: "_blank", rel: "noopener",
        i18n: "studies.ohif" })));
  row.addEventListener("click", (event) => {
    if (!event.target.closest("a, button, input, select")) toggle.click();
  });
  if (open.has(uid)) show(true);
  return [row, detail];
}
