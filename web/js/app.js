/**
 * The console's shell: who is logged in, the header (navigation, language, log out) and the
 * pages, one at a time, chosen by the address's fragment: #/studies, #/viewer/STUDY/SERIES,
 * #/users, … Each page is a module whose ``render(view, context)`` fills the main element and
 * may return a function that stops what it started (timers, the viewer's loading).
 */

import { dropSession, get, hasSession, post, put } from "./api.js";
import { h, showError } from "./dom.js";
import { LANGUAGES, language, preferredLanguage, setLanguage } from "./i18n.js";
import { renderLogin } from "./pages/login.js";

const PAGES = {
  studies: { module: "./pages/studies.js" },
  viewer: { module: "./pages/viewer.js", wide: true },
  nodes: { module: "./pages/info.js" },
  monitoring: { module: "./pages/info.js" },
  settings: { module: "./pages/info.js", admin: true },
  logs: { module: "./pages/logs.js", writers: true },
  users: { module: "./pages/users.js", admin: true },
  tokens: { module: "./pages/tokens.js" },
};
const HOME = "studies";

const session = { me: null };
let stop = null; // what the current page started
let visits = 0; // which navigation is the latest

const view = () => document.getElementById("view");
const mayWrite = (me) => me.role === "admin" || me.role === "operator";

function showHeader(me) {
  const nav = document.getElementById("nav");
  for (const el of [nav, document.getElementById("who"), document.getElementById("logout"),
    document.getElementById("menu-toggle")]) {
    el.hidden = !me;
  }
  if (!me) return;
  for (const link of nav.querySelectorAll("[data-admin]")) link.hidden = me.role !== "admin";
  for (const link of nav.querySelectorAll("[data-writers]")) link.hidden = !mayWrite(me);
  const who = document.getElementById("who");
  who.replaceChildren(h("strong", {}, me.username), " ",
    h("span", { class: `role role-${me.role}`, i18n: `role.${me.role}` }));
}

function leavePage() {
  visits += 1;
  if (stop) {
    const ending = stop;
    stop = null;
    ending();
  }
}

async function route() {
  if (!session.me) return;
  const [name, ...args] = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  const page = PAGES[name];
  const refused = (page?.admin && session.me.role !== "admin") || (page?.writers && !mayWrite(session.me));
  if (!page || refused) {
    location.replace(`#/${HOME}`); // comes back here through hashchange
    return;
  }
  leavePage();
  const visit = visits;
  for (const link of document.querySelectorAll("#nav a[data-route]")) {
    link.classList.toggle("active", link.dataset.route === name);
  }
  document.getElementById("nav").classList.remove("open");
  const main = view();
  main.className = `page page-${name}${page.wide ? " wide" : ""}`;
  main.replaceChildren(h("p", { class: "muted", i18n: "common.loading" }));
  const context = { me: session.me, page: name, args, mayWrite: mayWrite(session.me) };
  try {
    const module = await import(page.module);
    if (visit !== visits) return;
    main.replaceChildren();
    const ending = await module.render(main, context);
    if (visit === visits) stop = ending || null;
    else ending?.();
  } catch (error) {
    if (visit === visits) showError(error);
  }
}

/** Logged in (by the login page or a session this browser still had): on to the console. */
async function enter(me) {
  session.me = me;
  const wanted = me.language || language();
  if (wanted !== language()) await setLanguage(wanted);
  document.getElementById("language").value = wanted;
  if (!me.language) rememberLanguage(wanted);
  showHeader(me);
  if (!location.hash || location.hash === "#" || location.hash === "#/") {
    location.replace(`#/${HOME}`);
  }
  await route();
}

function showLogin(message) {
  leavePage();
  session.me = null;
  showHeader(null);
  const main = view();
  main.className = "page page-login";
  renderLogin(main, { onLoggedIn: enter, message });
}

function rememberLanguage(lang) {
  if (!session.me || session.me.must_change) return;
  put("/api/auth/preferences", { language: lang }).catch(showError);
  session.me = { ...session.me, language: lang };
}

async function changeLanguage(event) {
  const lang = event.target.value;
  if (!LANGUAGES.includes(lang)) return;
  await setLanguage(lang);
  rememberLanguage(lang);
}

async function logout() {
  try {
    await post("/api/auth/logout");
  } catch (error) {
    if (error.status !== 401) showError(error);
  }
  dropSession();
  showLogin();
}

function wireHeader() {
  document.getElementById("language").addEventListener("change", (event) => {
    changeLanguage(event).catch(showError);
  });
  document.getElementById("logout").addEventListener("click", logout);
  const toggle = document.getElementById("menu-toggle");
  toggle.addEventListener("click", () => {
    const open = document.getElementById("nav").classList.toggle("open");
    toggle.setAttribute("aria-expanded", String(open));
  });
  window.addEventListener("hashchange", route);
  document.addEventListener("pacs:unauthorized", () => {
    if (session.me) {
      dropSession();
      showLogin("login.expired");
    }
  });
}

async function boot() {
  await setLanguage(preferredLanguage());
  document.getElementById("language").value = language();
  wireHeader();
  let me = null;
  if (hasSession()) {
    try {
      me = await get("/api/auth/me");
    } catch {
      dropSession(); // expired: log in again
    }
  }
  if (me && !me.must_change) await enter(me);
  else if (me) renderLogin(view(), { onLoggedIn: enter, me });
  else showLogin();
}

boot().catch((error) => {
  view().replaceChildren(h("div", { class: "notice error" }, String(error)));
});
