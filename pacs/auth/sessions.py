"""Login sessions: a random token in a cookie, its SHA-256 in the database. Thread-only."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import Engine, Table, delete, insert, select

from pacs.auth.schema import LoginSession

SESSION: Table = LoginSession.__table__  # type: ignore[attr-defined]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def open_session(engine: Engine, username: str, ttl: float) -> str:
    """A new session for ``username`` lasting ``ttl`` seconds; returns its token. Expired
    sessions are removed on the way."""
    token = secrets.token_urlsafe(32)
    now = _now()
    with engine.begin() as conn:
        conn.execute(delete(SESSION).where(SESSION.c.expires_at < now))
        conn.execute(
            insert(SESSION).values(
                token_hash=_digest(token),
                username=username,
                expires_at=now + dt.timedelta(seconds=ttl),
            )
        )
    return token


def session_user(engine: Engine, token: str) -> str | None:
    """The username of a live session, or None."""
    with engine.connect() as conn:
        row = conn.execute(
            select(SESSION.c.username, SESSION.c.expires_at).where(
                SESSION.c.token_hash == _digest(token)
            )
        ).first()
    if row is None:
        return None
    expires: dt.datetime = row.expires_at
    if expires.tzinfo is None:  # SQLite gives back what it stored, without the zone
        expires = expires.replace(tzinfo=dt.UTC)
    if expires < _now():
        return None
    return str(row.username)


def close_session(engine: Engine, token: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(SESSION).where(SESSION.c.token_hash == _digest(token)))


def close_all(engine: Engine, username: str) -> None:
    """End every session of ``username`` (its password changed)."""
    with engine.begin() as conn:
        conn.execute(delete(SESSION).where(SESSION.c.username == username))
