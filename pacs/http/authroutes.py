"""The account endpoints: log in and out, who am I, my preferences, change my password.

Logging in sets the session cookie (HttpOnly, SameSite=Strict, Secure behind HTTPS) and a CSRF
cookie the console echoes in a header. Failed logins are rate limited per account and address,
and every login, failed or not, goes into the audit log."""

from __future__ import annotations

import functools
import secrets
import time
from collections import deque
from typing import Literal

import trio
from pydantic import BaseModel, Field
from quart import Blueprint, Response, jsonify, request
from quart_schema import validate_request

from pacs.auth import accounts, audit, preferences, sessions
from pacs.http.auth import COOKIE, CSRF_COOKIE, Authenticator, principal
from pacs.http.problems import HttpProblem

FAILURES_ALLOWED = 5  # failed logins per account and address within the window
WINDOW = 300.0


class LoginBody(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class PasswordBody(BaseModel):
    current_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024)


class PreferencesBody(BaseModel):
    language: Literal["zh-CN", "en"]


class Throttle:
    """Recent failed logins per (account, address): the sixth within five minutes is refused
    until the oldest ages out."""

    def __init__(self) -> None:
        self._failures: dict[tuple[str, str], deque[float]] = {}

    def check(self, key: tuple[str, str]) -> None:
        recent = self._failures.get(key)
        now = time.monotonic()
        while recent and recent[0] < now - WINDOW:
            recent.popleft()
        if recent is not None and len(recent) >= FAILURES_ALLOWED:
            wait = int(recent[0] + WINDOW - now) + 1
            raise HttpProblem(
                429,
                f"too many failed logins: try again in {wait} s",
                headers={"Retry-After": str(wait)},
            )

    def failed(self, key: tuple[str, str]) -> None:
        if len(self._failures) > 10000:
            self._failures.clear()
        self._failures.setdefault(key, deque()).append(time.monotonic())

    def succeeded(self, key: tuple[str, str]) -> None:
        self._failures.pop(key, None)


def _me(who: accounts.Principal, prefs: dict[str, str]) -> dict[str, object]:
    return {
        "username": who.username,
        "role": who.role,
        "must_change": who.must_change,
        "language": prefs.get("language", ""),
    }


def blueprint(auth: Authenticator) -> Blueprint:
    bp = Blueprint("auth", __name__, url_prefix="/api/auth")
    engine = auth.engine
    throttle = Throttle()

    async def note(username: str, action: str, detail: str = "") -> None:
        record = functools.partial(audit.record, engine, username, action, detail=detail,
                                   address=request.remote_addr or "")  # fmt: skip
        await trio.to_thread.run_sync(record)

    @bp.post("/login")
    @validate_request(LoginBody)
    async def login(data: LoginBody) -> Response:
        """Log in: sets the session and CSRF cookies; the token also works as a bearer."""
        key = (data.username, request.remote_addr or "")
        throttle.check(key)
        who = await trio.to_thread.run_sync(accounts.verify, engine, data.username, data.password)
        if who is None:
            throttle.failed(key)
            await note(data.username, "login_failed")
            raise HttpProblem(401, "wrong username or password")
        throttle.succeeded(key)
        await note(who.username, "login")
        token = await trio.to_thread.run_sync(
            sessions.open_session, engine, who.username, auth.session_seconds
        )
        prefs = await trio.to_thread.run_sync(preferences.get_all, engine, who.username)
        response = jsonify({**_me(who, prefs), "token": token})
        secure = request.scheme == "https" or request.headers.get("X-Forwarded-Proto") == "https"
        for name, value, http_only in (
            (COOKIE, token, True),
            (CSRF_COOKIE, secrets.token_urlsafe(24), False),
        ):
            response.set_cookie(name, value, max_age=int(auth.session_seconds), httponly=http_only,
                                samesite="Strict", secure=secure, path="/")  # fmt: skip
        return response

    @bp.post("/logout")
    async def logout() -> Response:
        """End this browser's session."""
        token = request.cookies.get(COOKIE)
        if token:
            auth.forget_token(token)
            await trio.to_thread.run_sync(sessions.close_session, engine, token)
        response = jsonify({"logged_out": True})
        response.delete_cookie(COOKIE, path="/")
        response.delete_cookie(CSRF_COOKIE, path="/")
        return response

    @bp.get("/me")
    async def me() -> Response:
        """Who is logged in, their role, and their preferences."""
        who = principal()
        prefs = await trio.to_thread.run_sync(preferences.get_all, engine, who.username)
        return jsonify(_me(who, prefs))

    @bp.put("/preferences")
    @validate_request(PreferencesBody)
    async def put_preferences(data: PreferencesBody) -> Response:
        """Remember the console's language for this account."""
        who = principal()
        await trio.to_thread.run_sync(preferences.put, engine, who.username, data.model_dump())
        return jsonify(data.model_dump())

    @bp.post("/password")
    @validate_request(PasswordBody)
    async def change_password(data: PasswordBody) -> Response:
        """Change my password (required first for the default account); ends my sessions."""
        who = principal()
        checked = await trio.to_thread.run_sync(
            accounts.verify, engine, who.username, data.current_password
        )
        if checked is None:
            raise HttpProblem(403, "the current password is wrong")
        await trio.to_thread.run_sync(
            accounts.set_password, engine, who.username, data.new_password
        )
        await trio.to_thread.run_sync(sessions.close_all, engine, who.username)
        auth.forget(who.username)
        await note(who.username, "password_changed")
        return jsonify({"changed": True, "detail": "log in again with the new password"})

    return bp
