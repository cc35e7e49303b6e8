/**
 * Calls to the server's API on this origin. The session cookie authenticates them; every
 * state-changing request echoes the CSRF cookie in the X-CSRF-Token header. Errors arrive as
 * application/problem+json and become an ApiError carrying the server's words (``detail``).
 */

const CSRF_COOKIE = "pacs_csrf";
const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export class ApiError extends Error {
  constructor(status, detail, path) {
    super(detail || `HTTP ${status}`);
    this.status = status;
    this.detail = detail;
    this.path = path;
  }

  /** A 404 of a collection: the server has no such endpoint (yet). */
  get missing() {
    return this.status === 404;
  }
}

function cookie(name) {
  for (const part of document.cookie.split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) return decodeURIComponent(value.join("="));
  }
  return "";
}

/** Does this browser hold a login (the CSRF cookie comes and goes with the session)? */
export const hasSession = () => Boolean(cookie(CSRF_COOKIE));

/** Forget the login on this side (the server has ended it: password changed, logged out). */
export function dropSession() {
  document.cookie = `${CSRF_COOKIE}=; Max-Age=0; Path=/; SameSite=Strict`;
}

async function problemOf(response, path) {
  let detail = "";
  const type = response.headers.get("Content-Type") || "";
  try {
    if (type.includes("json")) {
      const body = await response.json();
      detail = body.detail || body.title || "";
    } else {
      detail = (await response.text()).slice(0, 300);
    }
  } catch {
    detail = response.statusText;
  }
  return new ApiError(response.status, detail, path);
}

/** ``method`` ``path`` with an optional JSON ``body``; the answer's JSON, or its text. */
export async function request(method, path, body, accept = "application/json") {
  const headers = { Accept: accept };
  if (UNSAFE.has(method)) headers["X-CSRF-Token"] = cookie(CSRF_COOKIE);
  const init = { method, headers, credentials: "same-origin" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (!response.ok) {
    const error = await problemOf(response, path);
    if (error.status === 401 && path !== "/api/auth/login") {
      document.dispatchEvent(new CustomEvent("pacs:unauthorized", { detail: error }));
    }
    throw error;
  }
  if (response.status === 204) return null;
  const type = response.headers.get("Content-Type") || "";
  return type.includes("json") ? response.json() : response.text();
}

export const get = (path, accept) => request("GET", path, undefined, accept);
export const post = (path, body) => request("POST", path, body ?? {});
export const put = (path, body) => request("PUT", path, body);
export const patch = (path, body) => request("PATCH", path, body);
export const del = (path) => request("DELETE", path);

/** Path segments: UIDs and names, escaped. */
export const seg = (value) => encodeURIComponent(value);
