"""The account endpoints: log in and out, who am I, change my password, and (admins) manage
accounts."""

from __future__ import annotations

from typing import Any

import trio
from quart import Blueprint, Response, jsonify, request

from pacs.auth import accounts, sessions
from pacs.http.auth import COOKIE, Authenticator, principal
from pacs.http.problems import HttpProblem


async def _json_fields(*names: str) -> list[str]:
    body: Any = await request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise HttpProblem(400, f"expected a JSON object with {', '.join(names)}")
    values = [body.get(name) for name in names]
    missing = [
        name for name, value in zip(names, values, strict=True) if not isinstance(value, str)
    ]
    if missing:
        raise HttpProblem(400, f"missing or not text: {', '.join(missing)}")
    return [str(value) for value in values]


def _me(who: accounts.Principal) -> dict[str, object]:
    return {"username": who.username, "role": who.role, "must_change": who.must_change}


def blueprint(auth: Authenticator) -> Blueprint:
    bp = Blueprint("auth", __name__, url_prefix="/api/auth")
    engine = auth.engine

    @bp.post("/login")
    async def login() -> Response:
        username, password = await _json_fields("username", "password")
        who = await trio.to_thread.run_sync(accounts.verify, engine, username, password)
        if who is None:
            raise HttpProblem(401, "wrong username or password")
        token = await trio.to_thread.run_sync(
            sessions.open_session, engine, who.username, auth.session_seconds
        )
        response = jsonify({**_me(who), "token": token})
        response.set_cookie(
            COOKIE,
            token,
            max_age=int(auth.session_seconds),
            httponly=True,
            samesite="Strict",
            secure=request.scheme == "https",
            path="/",
        )
        return response

    @bp.post("/logout")
    async def logout() -> Response:
        token = request.cookies.get(COOKIE)
        if token:
            auth.forget_token(token)
            await trio.to_thread.run_sync(sessions.close_session, engine, token)
        response = jsonify({"logged_out": True})
        response.delete_cookie(COOKIE, path="/")
        return response

    @bp.get("/me")
    async def me() -> Response:
        return jsonify(_me(principal()))

    @bp.post("/password")
    async def change_password() -> Response:
        who = principal()
        current, new = await _json_fields("current_password", "new_password")
        checked = await trio.to_thread.run_sync(accounts.verify, engine, who.username, current)
        if checked is None:
            raise HttpProblem(403, "the current password is wrong")
        await trio.to_thread.run_sync(accounts.set_password, engine, who.username, new)
        await trio.to_thread.run_sync(sessions.close_all, engine, who.username)
        auth.forget(who.username)
        return jsonify({"changed": True, "detail": "log in again with the new password"})

    return bp
