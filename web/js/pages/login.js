/**
 * Logging in, and the password change an account must make first (the default admin/admin,
 * or a password someone else chose): after it the server ends the sessions, so the user logs
 * in again with the new password.
 */

import { dropSession, post } from "../api.js";
import { describe, field, h } from "../dom.js";

function card(titleKey, ...content) {
  return h("section", { class: "card login-card" }, h("h1", { i18n: titleKey }), ...content);
}

function messageBox(key, kind = "info") {
  return key ? h("div", { class: `notice ${kind}`, role: "status", i18n: key }) : null;
}

/** Disable the form while ``work`` runs; show its error in ``box``. */
async function busy(form, box, work) {
  const controls = form.querySelectorAll("input, button");
  for (const control of controls) control.disabled = true;
  box.replaceChildren();
  try {
    await work();
  } catch (error) {
    box.replaceChildren(h("div", { class: "notice error", role: "alert" }, describe(error)));
  } finally {
    for (const control of controls) control.disabled = false;
  }
}

/** The login form; ``me``: already logged in but the password must change first. */
export function renderLogin(main, { onLoggedIn, message, me }) {
  if (me?.must_change) {
    renderPasswordChange(main, me, onLoggedIn);
    return;
  }
  const errors = h("div", { class: "errors" });
  const form = h("form", { class: "stack", autocomplete: "on" },
    field("login.username", h("input", { name: "username", autocomplete: "username",
      required: true })),
    field("login.password", h("input", { name: "password", type: "password",
      autocomplete: "current-password", required: true })),
    errors,
    h("button", { type: "submit", class: "primary", i18n: "login.submit" }));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    busy(form, errors, async () => {
      const who = await post("/api/auth/login", {
        username: data.get("username"),
        password: data.get("password"),
      });
      if (who.must_change) renderPasswordChange(main, who, onLoggedIn);
      else await onLoggedIn(who);
    });
  });
  main.replaceChildren(card("login.title", messageBox(message), form));
  form.querySelector("input").focus();
}

function renderPasswordChange(main, me, onLoggedIn) {
  const errors = h("div", { class: "errors" });
  const form = h("form", { class: "stack" },
    h("p", { i18n: "password.explain", args: { username: me.username } }),
    field("password.current", h("input", { name: "current", type: "password",
      autocomplete: "current-password", required: true })),
    field("password.new", h("input", { name: "new", type: "password", autocomplete: "new-password",
      required: true, minlength: 8 }), "password.rules"),
    field("password.repeat", h("input", { name: "repeat", type: "password",
      autocomplete: "new-password", required: true })),
    errors,
    h("button", { type: "submit", class: "primary", i18n: "password.submit" }));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    if (data.get("new") !== data.get("repeat")) {
      errors.replaceChildren(messageBox("password.mismatch", "error"));
      return;
    }
    busy(form, errors, async () => {
      await post("/api/auth/password", {
        current_password: data.get("current"),
        new_password: data.get("new"),
      });
      dropSession(); // the server has ended every session of the account
      renderLogin(main, { onLoggedIn, message: "password.changed" });
    });
  });
  main.replaceChildren(card("password.title", form));
  form.querySelector("input").focus();
}
