"""API tokens: long-lived bearer tokens for scripts, created per account, listed by name and
prefix, revocable. Thread-only: every function blocks on the database."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from pydantic import BaseModel
from sqlalchemy import Engine, Table, delete, insert, select, update

from pacs.auth.accounts import AccountError, find
from pacs.auth.schema import ApiToken

TOKEN: Table = ApiToken.__table__  # type: ignore[attr-defined]
PREFIX = "pacs_"  # every token starts so: easy to spot in a leaked file


class TokenInfo(BaseModel):
    """What is known of a token besides its text (the API answers with this too)."""

    id: int
    username: str
    name: str
    prefix: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    return moment.replace(tzinfo=dt.UTC) if moment and moment.tzinfo is None else moment


def create(
    engine: Engine, username: str, name: str, *, days: float | None = None
) -> tuple[int, str]:
    """A new token for ``username``: its id and its text (the only time the text is known)."""
    if find(engine, username) is None:
        raise AccountError(f"no account {username!r}")
    if not name.strip() or len(name) > 64:
        raise AccountError("a token needs a name of 1 to 64 characters")
    token = PREFIX + secrets.token_urlsafe(32)
    now = _now()
    with engine.begin() as conn:
        created = conn.execute(
            insert(TOKEN).values(
                token_hash=_digest(token),
                prefix=token[: len(PREFIX) + 6],
                username=username,
                name=name.strip(),
                created_at=now,
                expires_at=now + dt.timedelta(days=days) if days else None,
            )
        )
        token_id = int(created.inserted_primary_key[0])  # type: ignore[index]
    return token_id, token


def owner(engine: Engine, token: str) -> str | None:
    """The username a live token belongs to (noting its use), or None."""
    with engine.begin() as conn:
        row = conn.execute(
            select(TOKEN.c.id, TOKEN.c.username, TOKEN.c.expires_at).where(
                TOKEN.c.token_hash == _digest(token)
            )
        ).first()
        if row is None:
            return None
        expires = _aware(row.expires_at)
        if expires is not None and expires < _now():
            return None
        conn.execute(update(TOKEN).where(TOKEN.c.id == row.id).values(last_used_at=_now()))
    return str(row.username)


def listing(engine: Engine, username: str | None = None) -> list[TokenInfo]:
    stmt = select(TOKEN).order_by(TOKEN.c.username, TOKEN.c.created_at)
    if username is not None:
        stmt = stmt.where(TOKEN.c.username == username)
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return [
        TokenInfo(
            id=int(r.id),
            username=str(r.username),
            name=str(r.name),
            prefix=str(r.prefix),
            created_at=_aware(r.created_at) or _now(),
            expires_at=_aware(r.expires_at),
            last_used_at=_aware(r.last_used_at),
        )
        for r in rows
    ]


def revoke(engine: Engine, token_id: int, username: str | None = None) -> str | None:
    """Delete a token (only ``username``'s when given); returns its SHA-256 (what caches of
    it are keyed by), None if there was no such token."""
    where = [TOKEN.c.id == token_id]
    if username is not None:
        where.append(TOKEN.c.username == username)
    with engine.begin() as conn:
        digest = conn.execute(select(TOKEN.c.token_hash).where(*where)).scalar()
        if digest is None:
            return None
        conn.execute(delete(TOKEN).where(*where))
    return str(digest)
