/**
 * API tokens for scripts (``Authorization: Bearer pacs_…``): create one (its text is shown
 * once, here, and never again), list them with their use, revoke them. Administrators can
 * list every account's.
 */

import { del, get, post } from "../api.js";
import { ask, errorBox, field, h, localTime, showError, toast } from "../dom.js";
import { t } from "../i18n.js";

function shown(token) {
  const text = h("input", { class: "token", readonly: true, value: token, "data-token": "",
    i18nAriaLabel: "tokens.token" });
  const copy = h("button", { type: "button", class: "secondary", i18n: "tokens.copy",
    onclick: async () => {
      text.select();
      try {
        await navigator.clipboard.writeText(token);
        toast(t("tokens.copied"));
      } catch {
        document.execCommand?.("copy");
      }
    } });
  return h("div", { class: "notice success created-token" },
    h("strong", { i18n: "tokens.created" }), h("p", { i18n: "tokens.once" }),
    h("div", { class: "token-line" }, text, copy));
}

function createForm(created, reload) {
  const form = h("form", { class: "inline-form", "data-form": "add-token" },
    field("tokens.name", h("input", { name: "name", required: true, maxlength: 64,
      autocomplete: "off" })),
    field("tokens.days", h("input", { name: "days", type: "number", min: 1, max: 3650, step: 1,
      i18nPlaceholder: "tokens.never" })),
    h("button", { type: "submit", class: "primary", i18n: "tokens.create" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const body = { name: data.get("name").trim() };
    if (data.get("days")) body.days = Number(data.get("days"));
    try {
      const made = await post("/api/tokens", body);
      created.replaceChildren(shown(made.token));
      form.reset();
    } catch (error) {
      showError(error);
    }
    await reload();
  });
  return form;
}

async function revoke(token, reload) {
  const confirmed = await ask({ title: "tokens.revoke_title", danger: true, confirm: "tokens.revoke",
    message: t("tokens.revoke_confirm", { name: token.name, prefix: token.prefix }) });
  if (!confirmed) return;
  try {
    await del(`/api/tokens/${token.id}`);
    toast(t("tokens.revoked", { name: token.name }));
  } catch (error) {
    showError(error);
  }
  await reload();
}

function tokenTable(tokens, reload) {
  if (!tokens.length) return h("p", { class: "muted", i18n: "tokens.none" });
  const heads = ["tokens.name", "tokens.prefix", "tokens.user", "tokens.created_at",
    "tokens.expires_at", "tokens.last_used_at", "users.actions"];
  return h("div", { class: "table-wrap" }, h("table", { class: "tokens" },
    h("thead", {}, h("tr", {}, heads.map((key) => h("th", { i18n: key })))),
    h("tbody", {}, tokens.map((token) => h("tr", { "data-token-id": token.id },
      h("td", {}, token.name), h("td", {}, h("code", {}, `${token.prefix}…`)),
      h("td", {}, token.username), h("td", {}, localTime(token.created_at)),
      h("td", {}, token.expires_at ? localTime(token.expires_at) : h("span", { i18n: "tokens.never" })),
      h("td", {}, localTime(token.last_used_at)),
      h("td", {}, h("button", { type: "button", class: "danger", onclick: () => revoke(token, reload),
        i18n: "tokens.revoke" })))))));
}

export async function render(view, context) {
  const list = h("section", { class: "results" });
  const created = h("div");
  const everyone = h("input", { type: "checkbox" });
  const reload = async () => {
    try {
      const tokens = await get(`/api/tokens${everyone.checked ? "?all=true" : ""}`);
      list.replaceChildren(tokenTable(tokens, reload));
    } catch (error) {
      list.replaceChildren(errorBox(error));
    }
  };
  everyone.addEventListener("change", reload);
  view.append(h("h1", { i18n: "tokens.title" }), h("p", { class: "muted", i18n: "tokens.explain" }),
    h("section", { class: "card" }, h("h2", { i18n: "tokens.create_title" }),
      createForm(created, reload), created),
    context.me.role === "admin"
      ? h("label", { class: "check" }, everyone, h("span", { i18n: "tokens.everyone" })) : null,
    list);
  await reload();
}
