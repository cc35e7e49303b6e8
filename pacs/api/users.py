"""Accounts and API tokens in the REST API. Administrators manage every account; anyone manages
their own tokens (administrators everyone's). Changes are audited."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Literal, TypeVar

import trio
from pydantic import BaseModel, Field
from quart import Blueprint, request
from quart_schema import validate_querystring, validate_request, validate_response
from sqlalchemy import Engine, delete

from pacs.auth import accounts, audit, sessions, tokens
from pacs.auth.accounts import ACCOUNT, AccountError
from pacs.auth.tokens import TokenInfo
from pacs.http.auth import Authenticator, principal, require_admin
from pacs.http.problems import HttpProblem
from pacs.http.services import WebServices

Role = Literal["admin", "operator", "viewer"]
T = TypeVar("T")


class User(BaseModel):
    username: str
    role: str
    must_change: bool


class NewUser(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(max_length=1024)
    role: Role = "viewer"
    temporary: bool = Field(False, description="must change the password at the first login")


class UserChange(BaseModel):
    role: Role | None = None
    password: str | None = Field(None, max_length=1024)
    temporary: bool = False


class NewToken(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    days: float | None = Field(None, gt=0, le=3650)


class CreatedToken(BaseModel):
    id: int
    token: str = Field(description="shown once: only its hash is kept")


class TokenQuery(BaseModel):
    all: bool = Field(False, description="every account's tokens (administrators)")


def _user(who: accounts.Principal) -> User:
    return User(username=who.username, role=who.role, must_change=who.must_change)


def _remove(engine: Engine, username: str) -> bool:
    with engine.begin() as conn:
        gone = conn.execute(delete(ACCOUNT).where(ACCOUNT.c.username == username)).rowcount
    sessions.close_all(engine, username)
    for info in tokens.listing(engine, username):
        tokens.revoke(engine, info.id)
    return bool(gone)


def _change(engine: Engine, username: str, change: UserChange) -> accounts.Principal:
    found = accounts.find(engine, username)
    if found is None:
        raise HttpProblem(404, f"no account {username!r}")
    admins = [who for who in accounts.listing(engine) if who.admin]
    if found.admin and change.role not in (None, "admin") and len(admins) == 1:
        raise AccountError("the last administrator cannot lose the role")
    if change.role is not None:
        accounts.set_role(engine, username, change.role)
    if change.password is not None:
        accounts.set_password(engine, username, change.password, must_change=change.temporary)
        sessions.close_all(engine, username)
    return accounts.find(engine, username) or found


def blueprint(web: WebServices, auth: Authenticator) -> Blueprint:
    bp = Blueprint("api_users", __name__, url_prefix="/api")
    engine = web.engine

    async def run(fn: Callable[[], T]) -> T:
        try:
            return await trio.to_thread.run_sync(fn)
        except AccountError as exc:
            raise HttpProblem(400, exc.message) from None

    async def note(action: str, target: str, detail: str = "") -> None:
        await run(functools.partial(audit.record, engine, principal().username, action, target,
                                    detail=detail, address=request.remote_addr or ""))  # fmt: skip

    @bp.get("/users")
    @validate_response(list[User])
    async def list_users() -> list[User]:
        """Every account (administrators)."""
        require_admin()
        found = await trio.to_thread.run_sync(accounts.listing, engine)
        return [_user(who) for who in found]

    @bp.post("/users")
    @validate_request(NewUser)
    @validate_response(User, 201)
    async def add_user(data: NewUser) -> tuple[User, int]:
        """Create an account (administrators)."""
        require_admin()
        who = await run(functools.partial(accounts.add, engine, data.username, data.password,
                                          role=data.role, must_change=data.temporary))  # fmt: skip
        await note("user_added", data.username, f"role {data.role}")
        return _user(who), 201

    @bp.patch("/users/<username>")
    @validate_request(UserChange)
    @validate_response(User)
    async def change_user(username: str, data: UserChange) -> User:
        """Change an account's role or password (administrators)."""
        require_admin()
        who = await run(functools.partial(_change, engine, username, data))
        auth.forget(username)
        await note("user_changed", username, ", ".join(data.model_dump(exclude_none=True)))
        return _user(who)

    @bp.delete("/users/<username>")
    async def delete_user(username: str) -> tuple[dict[str, str], int]:
        """Delete an account and end its sessions and tokens (administrators)."""
        me = require_admin()
        if username == me.username:
            raise HttpProblem(400, "an administrator cannot delete their own account")
        if not await run(functools.partial(_remove, engine, username)):
            raise HttpProblem(404, f"no account {username!r}")
        auth.forget(username)
        await note("user_deleted", username)
        return {"deleted": username}, 200

    _tokens(bp, web, auth, note)
    return bp


Note = Callable[..., Awaitable[None]]


def _tokens(bp: Blueprint, web: WebServices, auth: Authenticator, note: Note) -> None:
    engine = web.engine

    @bp.get("/tokens")
    @validate_querystring(TokenQuery)
    @validate_response(list[TokenInfo])
    async def list_tokens(query_args: TokenQuery) -> list[TokenInfo]:
        """My API tokens (administrators: everyone's with all=true)."""
        who = principal()
        if query_args.all:
            require_admin()
        owner = None if query_args.all else who.username
        found = await trio.to_thread.run_sync(tokens.listing, engine, owner)
        return found

    @bp.post("/tokens")
    @validate_request(NewToken)
    @validate_response(CreatedToken, 201)
    async def create_token(data: NewToken) -> tuple[CreatedToken, int]:
        """A new API token for me; its text is shown only now."""
        who = principal()
        token_id, text = await trio.to_thread.run_sync(
            functools.partial(tokens.create, engine, who.username, data.name, days=data.days)
        )
        await note("token_created", who.username, data.name)
        return CreatedToken(id=token_id, token=text), 201

    @bp.delete("/tokens/<int:token_id>")
    async def revoke_token(token_id: int) -> dict[str, int]:
        """Revoke one of my tokens (administrators: anyone's)."""
        who = principal()
        owner = None if who.admin else who.username
        digest = await trio.to_thread.run_sync(tokens.revoke, engine, token_id, owner)
        if digest is None:
            raise HttpProblem(404, f"no token {token_id}")
        auth.forget_digest(digest)
        await note("token_revoked", str(token_id))
        return {"revoked": token_id}
