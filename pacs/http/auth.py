"""Who is calling: every request except the open paths (health, login, static assets) must name
an account by a session cookie (the console, OHIF), a bearer token (scripts that logged in) or
HTTP Basic credentials (DICOMweb clients). An account whose password must change may do nothing
but change it.

Argon2 verification costs tens of milliseconds by design; a DICOMweb client sends its Basic
credentials with every request, so a successful check is remembered for a short while (in
memory, keyed by a hash of the credentials); so is a session, briefly. Logging out and changing a
password forget what was remembered."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable

import attrs
import trio
from quart import g, request
from sqlalchemy import Engine

from pacs.auth import accounts, sessions, tokens
from pacs.auth.accounts import Principal
from pacs.http.problems import HttpProblem

COOKIE = "pacs_session"
CSRF_COOKIE = "pacs_csrf"  # readable by the console's scripts, sent back as X-CSRF-Token
CSRF_HEADER = "X-CSRF-Token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CACHE_SECONDS = 300.0
SESSION_SECONDS = 15.0  # a session is looked up again after this (a viewer fetches many frames)
CACHE_ENTRIES = 1024
# Paths anyone may reach; everything else needs an account.
OPEN_PATHS = ("/healthz", "/api/auth/login", "/ohif", "/")  # "/": the console's page
OPEN_PREFIXES = ("/ohif/", "/static/", "/console/")
# What an account whose password must change may still do.
CHANGE_PATHS = ("/api/auth/password", "/api/auth/logout", "/api/auth/me")


def is_open(path: str, method: str) -> bool:
    return method == "OPTIONS" or path in OPEN_PATHS or path.startswith(OPEN_PREFIXES)


@attrs.define
class Authenticator:
    engine: Engine
    session_seconds: float
    # Verified Basic credentials and sessions, by hash: (expiry, account).
    _cache: dict[str, tuple[float, Principal]] = attrs.field(factory=dict)

    async def identify(self) -> Principal | None:
        """The account the current request authenticates as, or None."""
        header = request.headers.get("Authorization", "")
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "basic":
            return await self._basic_user(credentials.strip())
        token = credentials.strip() if scheme.lower() == "bearer" else request.cookies.get(COOKIE)
        if not token:
            return None
        key = "s:" + hashlib.sha256(token.encode()).hexdigest()
        return self._remembered(key) or self._remember(
            key, await trio.to_thread.run_sync(self._session_user, token), SESSION_SECONDS
        )

    def _session_user(self, token: str) -> Principal | None:
        """The account of a login session or of an API token (``pacs_...``)."""
        if token.startswith(tokens.PREFIX):
            name = tokens.owner(self.engine, token)
        else:
            name = sessions.session_user(self.engine, token)
        return accounts.find(self.engine, name) if name else None

    def _remembered(self, key: str) -> Principal | None:
        hit = self._cache.get(key)
        return hit[1] if hit and hit[0] > time.monotonic() else None

    def _remember(self, key: str, who: Principal | None, seconds: float) -> Principal | None:
        if who is not None:
            if len(self._cache) >= CACHE_ENTRIES:
                self._cache.clear()
            self._cache[key] = (time.monotonic() + seconds, who)
        return who

    def forget_token(self, token: str) -> None:
        self.forget_digest(hashlib.sha256(token.encode()).hexdigest())

    def forget_digest(self, digest: str) -> None:
        """Drop a remembered session or token by the SHA-256 of its text."""
        self._cache.pop("s:" + digest, None)

    async def _basic_user(self, credentials: str) -> Principal | None:
        try:
            text = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise HttpProblem(400, "malformed Basic credentials") from None
        username, _, password = text.partition(":")
        key = "b:" + hashlib.sha256(text.encode()).hexdigest()
        return self._remembered(key) or self._remember(
            key,
            await trio.to_thread.run_sync(accounts.verify, self.engine, username, password),
            CACHE_SECONDS,
        )

    def forget(self, username: str) -> None:
        """Drop everything remembered for ``username`` (its password changed)."""
        for key, (_, who) in list(self._cache.items()):
            if who.username == username:
                del self._cache[key]


def guard(auth: Authenticator) -> Callable[[], Awaitable[None]]:
    """A ``before_request`` hook: set ``g.principal`` or refuse the request."""

    async def check() -> None:
        g.principal = None
        if is_open(request.path, request.method):
            return
        who = await auth.identify()
        if who is not None and request.method in UNSAFE and _by_cookie():
            _check_csrf()
        if who is None:
            # A browser would pop up its own login box for a Basic challenge: only the
            # script-facing paths send one.
            challenge = not request.path.startswith("/api/")
            headers = {"WWW-Authenticate": 'Basic realm="pacs"'} if challenge else {}
            raise HttpProblem(401, "authentication required", headers=headers)
        if who.must_change and request.path not in CHANGE_PATHS:
            raise HttpProblem(
                403,
                f"the password of {who.username!r} must be changed first (POST /api/auth/password)",
            )
        g.principal = who

    return check


def _by_cookie() -> bool:
    """Did the request authenticate with the session cookie (a browser), rather than with
    credentials a script put in the Authorization header?"""
    return not request.headers.get("Authorization")


def _check_csrf() -> None:
    """A page of another site can make a browser send our cookie, but cannot read it: the
    console echoes the CSRF cookie in a header, which such a page cannot do."""
    expected = request.cookies.get(CSRF_COOKIE, "")
    given = request.headers.get(CSRF_HEADER, "")
    if not expected or not hmac.compare_digest(expected, given):
        raise HttpProblem(
            403, f"missing or wrong {CSRF_HEADER} header (send the {CSRF_COOKIE} cookie's value)"
        )


def principal() -> Principal:
    who: Principal | None = g.get("principal")
    if who is None:
        raise HttpProblem(401, "authentication required")
    return who


def require_writer() -> Principal:
    """The caller, who must be allowed to change data (admin or operator)."""
    who = principal()
    if not who.may_write:
        raise HttpProblem(403, f"{who.username!r} ({who.role}) may not change data")
    return who


def require_admin() -> Principal:
    who = principal()
    if not who.admin:
        raise HttpProblem(403, f"{who.username!r} ({who.role}) is not an administrator")
    return who
