/**
 * Users (administrators): every account with its role, which changes in place; a new
 * password (maybe temporary: to be changed at the next login); deleting an account; adding one.
 */

import { del, get, patch, post, seg } from "../api.js";
import { ask, errorBox, field, h, showError, toast } from "../dom.js";
import { t } from "../i18n.js";

const ROLES = ["admin", "operator", "viewer"];

function roleSelect(value, props = {}) {
  return h("select", { name: "role", ...props },
    ROLES.map((role) => h("option", { value: role, selected: role === value, i18n: `role.${role}` })));
}

function passwordFields() {
  return [
    field("users.password", h("input", { name: "password", type: "password", required: true,
      minlength: 8, autocomplete: "new-password" }), "password.rules"),
    h("label", { class: "check" }, h("input", { name: "temporary", type: "checkbox", checked: true }),
      h("span", { i18n: "users.temporary" })),
  ];
}

async function setPassword(user, reload) {
  const data = await ask({ title: "users.set_password", fields: [
    h("p", { i18n: "users.password_for", args: { username: user.username } }), ...passwordFields()],
  confirm: "common.save" });
  if (!data) return;
  try {
    await patch(`/api/users/${seg(user.username)}`,
      { password: data.get("password"), temporary: data.get("temporary") === "on" });
    toast(t("users.password_set", { username: user.username }));
  } catch (error) {
    showError(error);
  }
  await reload();
}

async function remove(user, reload) {
  const confirmed = await ask({ title: "users.delete_title", danger: true, confirm: "common.delete",
    message: t("users.delete_confirm", { username: user.username }) });
  if (!confirmed) return;
  try {
    await del(`/api/users/${seg(user.username)}`);
    toast(t("users.deleted", { username: user.username }));
  } catch (error) {
    showError(error);
  }
  await reload();
}

function userRow(user, me, reload) {
  const role = roleSelect(user.role, { i18nAriaLabel: "users.role" });
  role.addEventListener("change", async () => {
    try {
      await patch(`/api/users/${seg(user.username)}`, { role: role.value });
      toast(t("users.role_set", { username: user.username, role: t(`role.${role.value}`) }));
    } catch (error) {
      showError(error);
    }
    await reload();
  });
  return h("tr", { "data-user": user.username },
    h("td", {}, h("strong", {}, user.username), user.username === me.username
      ? h("span", { class: "muted", i18n: "users.you" }) : null),
    h("td", {}, role),
    h("td", { i18n: user.must_change ? "common.yes" : "common.no" }),
    h("td", {}, h("div", { class: "actions" },
      h("button", { type: "button", class: "secondary", onclick: () => setPassword(user, reload),
        i18n: "users.set_password" }),
      user.username === me.username ? null : h("button", { type: "button", class: "danger",
        onclick: () => remove(user, reload), i18n: "common.delete" }))));
}

function addForm(reload) {
  const form = h("form", { class: "inline-form", "data-form": "add-user" },
    field("users.username", h("input", { name: "username", required: true, maxlength: 64,
      autocomplete: "off" })),
    ...passwordFields(),
    field("users.role", roleSelect("viewer")),
    h("button", { type: "submit", class: "primary", i18n: "users.add" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    try {
      await post("/api/users", { username: data.get("username").trim(), password: data.get("password"),
        role: data.get("role"), temporary: data.get("temporary") === "on" });
      toast(t("users.added", { username: data.get("username").trim() }));
      form.reset();
    } catch (error) {
      showError(error);
    }
    await reload();
  });
  return form;
}

export async function render(view, context) {
  const list = h("section", { class: "results" });
  const reload = async () => {
    try {
      const users = await get("/api/users");
      list.replaceChildren(h("div", { class: "table-wrap" }, h("table", { class: "users" },
        h("thead", {}, h("tr", {}, ["users.username", "users.role", "users.must_change", "users.actions"]
          .map((key) => h("th", { i18n: key })))),
        h("tbody", {}, users.map((user) => userRow(user, context.me, reload))))));
    } catch (error) {
      list.replaceChildren(errorBox(error));
    }
  };
  view.append(h("h1", { i18n: "users.title" }),
    h("section", { class: "card" }, h("h2", { i18n: "users.add_title" }), addForm(reload)), list);
  await reload();
}
